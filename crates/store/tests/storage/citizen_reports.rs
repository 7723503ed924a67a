//! Citizens' reports: the submitter's pseudonym and the reviewers' decisions.

use crate::support::{TestDb, draft, new_report, partner, t};
use vangnet_core::index::{CheckStatus, CitizenReview, IndicatorIndex};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, Tlp};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_core::token::ApiToken;
use vangnet_store::{CITIZEN_SOURCE_ID, ChangeEvent, InsertOutcome, ReviewOutcome, StoreError};

crate::storage_tests! {
    citizen_reports_keep_their_submitter,
}

async fn citizen_reports_keep_their_submitter(db: &TestDb) {
    let store = &db.store;
    let citizens = store
        .partner(CITIZEN_SOURCE_ID)
        .await
        .expect("query")
        .expect("made by the migrations");
    assert_eq!(citizens.kind, PartnerKind::Citizen);
    assert!(
        store.partners().await.expect("query").is_empty(),
        "the citizen source is not a partner"
    );
    let token = ApiToken::generate().expect("randomness");
    assert!(
        matches!(
            store
                .add_token(CITIZEN_SOURCE_ID, &token.digest(), "x", "cli", t("2026-11-01T00:00:00Z"))
                .await,
            Err(StoreError::UnknownPartner(_))
        ),
        "citizens never get a token"
    );
    let now = t("2026-11-02T00:00:00Z");
    let mine = |external: &str| {
        let mut d = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
        d.tlp = Tlp::Green;
        d.external_id = Some(external.to_owned());
        new_report(d)
    };
    let first = mine("form-1").from_submitter("0a1b2c3d4e5f".to_owned());
    let second = mine("form-2").from_submitter("0a1b2c3d4e5f".to_owned());
    let other = mine("form-3").from_submitter("ffeeddcc0011".to_owned());
    let third = mine("form-4").from_submitter("1234abcd0011".to_owned());
    let outcomes = store
        .insert_reports(&citizens, &[first, second, other, third], "public", now)
        .await
        .expect("stored");
    let InsertOutcome::Created(stored) = &outcomes[0] else {
        panic!("created: {outcomes:?}")
    };
    assert_eq!(stored.submitter.as_deref(), Some("0a1b2c3d4e5f"));
    let read = store.report(&stored.id).await.expect("query").expect("found");
    assert_eq!(&read, stored);

    let (index, _) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    let bank = Viewer {
        partner: 1_000,
        kind: PartnerKind::Bank,
    };
    let view = index.view(key, &bank, now, &ScoringPolicy::default());
    assert_eq!(
        (view.reports, view.unverified_citizen_reports),
        (0, 3),
        "unverified: four reports from three people are three unverified citizens, not counted"
    );

    // The triage queue: oldest first, paged by report number.
    let queue = store.citizen_reports(CitizenReview::Unverified, 0, 10).await.expect("queue");
    assert_eq!(queue.len(), 4);
    assert!(queue.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        store
            .citizen_reports(CitizenReview::Unverified, queue[0].seq, 1)
            .await
            .expect("queue")[0]
            .id,
        queue[1].id
    );
    let reviewer = partner(store, "Fraudehelpdesk", PartnerKind::Helpdesk).await;
    let head = store.feed_head().await.expect("head");
    let reviewed = store
        .review_citizen_report(
            &queue[0].id,
            CitizenReview::Verified,
            &reviewer,
            Some("credible, matches a call"),
            now,
        )
        .await
        .expect("reviewed");
    let ReviewOutcome::Reviewed(reviewed) = reviewed else {
        panic!("{reviewed:?}")
    };
    let review = reviewed.review.clone().expect("kept");
    assert_eq!(
        (review.outcome, review.by_partner_id.as_str(), review.note.as_deref()),
        (CitizenReview::Verified, reviewer.id.as_str(), Some("credible, matches a call"))
    );
    assert!(matches!(
        store
            .review_citizen_report(&queue[0].id, CitizenReview::Rejected, &reviewer, None, now)
            .await
            .expect("query"),
        ReviewOutcome::AlreadyReviewed(r) if r.citizen_review() == CitizenReview::Verified
    ));
    store
        .review_citizen_report(&queue[3].id, CitizenReview::Rejected, &reviewer, None, now)
        .await
        .expect("reviewed");
    let partner_report = store
        .insert_reports(&reviewer, &[mine("partner-1")], &reviewer.actor(), now)
        .await
        .expect("stored");
    let InsertOutcome::Created(partner_report) = &partner_report[0] else {
        panic!("created")
    };
    assert!(
        matches!(
            store
                .review_citizen_report(&partner_report.id, CitizenReview::Verified, &reviewer, None, now)
                .await
                .expect("query"),
            ReviewOutcome::NotFound
        ),
        "only citizen reports are reviewed"
    );
    let changes = store.changes_since(head, 10).await.expect("feed");
    assert!(matches!(
        &changes[0].event,
        ChangeEvent::Review { report_seq, review: CitizenReview::Verified, indicators } if *report_seq == queue[0].seq && indicators.len() == 1
    ));
    assert_eq!(
        store.citizen_reports(CitizenReview::Unverified, 0, 10).await.expect("queue").len(),
        2
    );
    assert_eq!(store.citizen_reports(CitizenReview::Verified, 0, 10).await.expect("queue").len(), 1);
    assert_eq!(store.citizen_reports(CitizenReview::Rejected, 0, 10).await.expect("queue").len(), 1);
    let audited = store.audit_entries_of(&reviewer.actor(), 10).await.expect("audit");
    assert_eq!(audited.iter().filter(|e| e.action == "citizen_report.review").count(), 2);

    // Loaded again: the verified report counts (with the citizen weight; its submitter's
    // unverified second report adds nothing), the rejected one nowhere, the other person's
    // unverified report is a count; the partner report lets it be counted, without weight.
    let (mut index, _) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    index.retract(key, u32::try_from(partner_report.seq).expect("small"));
    let view = index.view(key, &bank, now, &ScoringPolicy::default());
    assert_eq!(
        (view.status, view.reports, view.unverified_citizen_reports),
        (CheckStatus::Reported, 1, 1)
    );
    let (index, _) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    let view = index.view(key, &bank, now, &ScoringPolicy::default());
    assert_eq!(
        (view.reports, view.unverified_citizen_reports, view.unweighted_citizen_reports),
        (3, 0, 1)
    );
}
