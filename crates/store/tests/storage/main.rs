//! The storage test suite: every scenario runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL is the server at `VANGNET_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a schema of its own, dropped
//! at the end. Without a reachable server the PostgreSQL variants are skipped with a notice,
//! except when `CI` is set: then they fail.

mod support;

use std::collections::HashMap;
use support::{TestDb, draft, new_report, partner, t};
use vangnet_core::audit::{AuditAction, AuditBreak, AuditEvent};
use vangnet_core::index::{CheckStatus, CitizenReview, IndicatorIndex, IndicatorStatus};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, Tlp};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_core::token::ApiToken;
use vangnet_store::{
    CITIZEN_SOURCE_ID, CallEntryState, CallListAdd, CallListRemove, ChangeEvent, DecisionOutcome, DecisionWrite, InsertOutcome,
    PaymentDecisionRow, PnbfCaseRow, PnbfEventRow, RetractOutcome, ReviewOutcome, StateBlob, StoreError, verify_audit,
};

storage_tests! {
    partners_and_tokens,
    reports_round_trip_with_indicator_records,
    external_ids_make_resubmission_idempotent,
    retraction_rules_and_counts,
    change_feed_follows_every_write,
    index_loads_with_tlp_and_status,
    audit_chain_verifies_and_detects_tampering,
    settings_first_writer_wins,
    large_batches,
    citizen_reports_keep_their_submitter,
    payment_decisions_are_idempotent_and_keep_state,
    call_lists_and_opt_outs,
    pnbf_cases_versions_and_due_terms,
}

async fn partners_and_tokens(db: &TestDb) {
    let store = &db.store;
    let token = ApiToken::generate().expect("randomness");
    let (bank, info) = store
        .create_partner(
            "Bank A",
            PartnerKind::Bank,
            &token.digest(),
            "first",
            "cli",
            t("2026-11-01T00:00:00Z"),
        )
        .await
        .expect("created");
    assert_eq!(bank.kind, PartnerKind::Bank);
    assert_eq!(info.partner_id, bank.id);
    let again = store
        .create_partner(
            "Bank A",
            PartnerKind::Bank,
            &ApiToken::generate().expect("rng").digest(),
            "x",
            "cli",
            t("2026-11-01T00:00:00Z"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::DuplicatePartner(name)) if name == "Bank A"));

    assert_eq!(store.authenticate(&token.digest()).await.expect("query"), Some(bank.clone()));
    assert_eq!(store.partner(&bank.id).await.expect("query"), Some(bank.clone()));
    assert_eq!(store.partner("Bank A").await.expect("query"), Some(bank.clone()));
    assert_eq!(store.partner("nobody").await.expect("query"), None);

    let second = ApiToken::generate().expect("randomness");
    let second_info = store
        .add_token(&bank.id, &second.digest(), "rotation", "cli", t("2026-11-02T00:00:00Z"))
        .await
        .expect("added");
    assert!(
        store
            .revoke_token(&info.id, "cli", t("2026-11-03T00:00:00Z"))
            .await
            .expect("revoked")
    );
    assert!(
        !store.revoke_token(&info.id, "cli", t("2026-11-03T00:00:00Z")).await.expect("query"),
        "already revoked"
    );
    assert_eq!(
        store.authenticate(&token.digest()).await.expect("query"),
        None,
        "revoked tokens do not authenticate"
    );
    assert_eq!(store.authenticate(&second.digest()).await.expect("query"), Some(bank.clone()));
    let tokens = store.tokens(&bank.id).await.expect("query");
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|t| t.id == info.id && t.revoked_at.is_some()));
    assert!(tokens.iter().any(|t| t.id == second_info.id && t.revoked_at.is_none()));
    assert!(matches!(
        store
            .add_token("nobody", &second.digest(), "x", "cli", t("2026-11-02T00:00:00Z"))
            .await,
        Err(StoreError::UnknownPartner(_))
    ));
    assert_eq!(store.partners().await.expect("query"), vec![bank]);
}

async fn reports_round_trip_with_indicator_records(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let report = new_report(draft(
        FraudType::Marketplace,
        "2026-11-01T10:00:00Z",
        &["NL91 ABNA 0417 1643 00", "06-12345678", "https://Shop.Fake-Deals.nl/pay#x"],
    ));
    let outcomes = store
        .insert_reports(&bank, &[report], &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    let InsertOutcome::Created(stored) = &outcomes[0] else {
        panic!("created: {outcomes:?}")
    };
    let values: Vec<(IndicatorKind, &str, bool)> = stored.indicators.iter().map(|i| (i.kind, i.value.as_str(), i.derived)).collect();
    assert_eq!(
        values,
        vec![
            (IndicatorKind::Iban, "NL91ABNA0417164300", false),
            (IndicatorKind::Phone, "+31612345678", false),
            (IndicatorKind::Url, "https://shop.fake-deals.nl/pay", false),
            (IndicatorKind::Domain, "fake-deals.nl", true),
        ]
    );
    let read = store.report(&stored.id).await.expect("query").expect("found");
    assert_eq!(&read, stored);
    assert_eq!(
        store.reports_by_seq(&[stored.seq, 999_999]).await.expect("query"),
        vec![stored.clone()]
    );

    let second = new_report(draft(FraudType::Webshop, "2026-10-01T10:00:00Z", &["NL91ABNA0417164300"]));
    store
        .insert_reports(&bank, &[second], &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!(row.reports, 2);
    assert_eq!(row.first_seen, Some(t("2026-10-01T10:00:00Z")));
    assert_eq!(row.last_seen, Some(t("2026-11-01T10:00:00Z")));
    assert_eq!((row.country.as_deref(), row.bank_code.as_deref()), (Some("NL"), Some("ABNA")));
    assert_eq!(row.fraud_types[FraudType::Marketplace.index()], 1);
    assert_eq!(row.fraud_types[FraudType::Webshop.index()], 1);
    assert_eq!(row.fraud_types.iter().sum::<i64>(), 2);
    assert_eq!(row.status, IndicatorStatus::Active);
    assert!(
        store
            .indicator(IndicatorKind::Iban, "NL02ABNA0123456789")
            .await
            .expect("query")
            .is_none()
    );
}

async fn external_ids_make_resubmission_idempotent(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let mut d = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
    d.external_id = Some("case-1".into());
    let first = new_report(d.clone());
    let now = t("2026-11-02T00:00:00Z");
    let out = store
        .insert_reports(&bank, &[first.clone(), first.clone()], &bank.actor(), now)
        .await
        .expect("stored");
    let InsertOutcome::Created(created) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        out[1],
        InsertOutcome::Existing { id: created.id.clone() },
        "a repeat within one batch"
    );
    let out = store
        .insert_reports(&bank, &[first.clone()], &bank.actor(), now)
        .await
        .expect("stored");
    assert_eq!(
        out[0],
        InsertOutcome::Existing { id: created.id.clone() },
        "a repeat in a later batch"
    );
    d.fraud_type = FraudType::Webshop;
    let out = store
        .insert_reports(&bank, &[new_report(d)], &bank.actor(), now)
        .await
        .expect("stored");
    assert_eq!(
        out[0],
        InsertOutcome::Conflict {
            existing_id: created.id.clone()
        }
    );
    let out = store.insert_reports(&other, &[first], &other.actor(), now).await.expect("stored");
    assert!(matches!(out[0], InsertOutcome::Created(_)), "external ids are per partner");
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!(row.reports, 2, "repeats are not counted");
}

async fn retraction_rules_and_counts(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    let now = t("2026-11-02T00:00:00Z");
    let reports = [
        new_report(draft(FraudType::Marketplace, "2026-10-01T10:00:00Z", &["NL91ABNA0417164300"])),
        new_report(draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"])),
    ];
    let out = store.insert_reports(&bank, &reports, &bank.actor(), now).await.expect("stored");
    let ids: Vec<String> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Created(r) => r.id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        store.retract_report(&ids[1], &other, None, now).await.expect("query"),
        RetractOutcome::NotAllowed
    );
    assert_eq!(
        store.retract_report("no-such-report", &bank, None, now).await.expect("query"),
        RetractOutcome::NotFound
    );
    let RetractOutcome::Retracted(retracted) = store
        .retract_report(&ids[1], &bank, Some("wrong account"), now)
        .await
        .expect("query")
    else {
        panic!("retracted")
    };
    let retraction = retracted.retraction.expect("recorded");
    assert_eq!(
        (retraction.by_partner_id.as_str(), retraction.reason.as_deref()),
        (bank.id.as_str(), Some("wrong account"))
    );
    assert!(matches!(
        store.retract_report(&ids[1], &bank, None, now).await.expect("query"),
        RetractOutcome::AlreadyRetracted(_)
    ));
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!(row.reports, 1, "the retracted report left the counts");
    assert_eq!(
        (row.first_seen, row.last_seen),
        (Some(t("2026-10-01T10:00:00Z")), Some(t("2026-11-01T10:00:00Z"))),
        "first and last seen span every report ever filed"
    );
    assert_eq!(row.fraud_types[FraudType::Marketplace.index()], 1);
    assert!(
        matches!(
            store.retract_report(&ids[0], &police, None, now).await.expect("query"),
            RetractOutcome::Retracted(_)
        ),
        "police may retract any report"
    );
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!((row.reports, row.fraud_types.iter().sum::<i64>()), (0, 0));
    let stored = store.report(&ids[0]).await.expect("query").expect("kept");
    assert_eq!(stored.fraud_type, FraudType::Marketplace, "a retracted report is kept, not edited");
}

async fn change_feed_follows_every_write(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let start = store.feed_head().await.expect("head");
    let now = t("2026-11-02T00:00:00Z");
    let out = store
        .insert_reports(
            &bank,
            &[new_report(draft(FraudType::Phishing, "2026-11-01T10:00:00Z", &["phish-bank.nl"]))],
            &bank.actor(),
            now,
        )
        .await
        .expect("stored");
    let InsertOutcome::Created(report) = &out[0] else {
        panic!("{out:?}")
    };
    store
        .retract_report(&report.id, &bank, None, t("2026-11-03T00:00:00Z"))
        .await
        .expect("retracted");
    let position = store
        .set_indicator_status(
            IndicatorKind::Domain,
            "phish-bank.nl",
            IndicatorStatus::Disputed,
            Some("owner objects"),
            "partner:x",
            "domain:abc",
            now,
        )
        .await
        .expect("status");
    let changes = store.changes_since(start, 100).await.expect("feed");
    assert_eq!(changes.len(), 3);
    assert_eq!(position, changes[2].seq, "a status carries its feed position");
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(matches!(&changes[0].event, ChangeEvent::Report(r) if r.id == report.id));
    assert!(
        matches!(&changes[1].event, ChangeEvent::Retraction { report_seq, indicators } if *report_seq == report.seq && indicators.len() == 1)
    );
    assert!(matches!(&changes[2].event, ChangeEvent::Status { status: IndicatorStatus::Disputed, value, .. } if value == "phish-bank.nl"));
    assert_eq!(store.feed_head().await.expect("head"), changes[2].seq);
    assert_eq!(
        store.changes_since(changes[0].seq, 1).await.expect("feed").len(),
        1,
        "the limit holds"
    );
    assert_eq!(store.prune_changes(t("2026-11-02T12:00:00Z")).await.expect("pruned"), 2);
    assert_eq!(store.changes_since(start, 100).await.expect("feed").len(), 1);
}

async fn index_loads_with_tlp_and_status(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    let now = t("2026-11-02T00:00:00Z");
    let mut amber = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
    amber.tlp = Tlp::Amber;
    let mut red = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
    red.tlp = Tlp::Red;
    store
        .insert_reports(&police, &[new_report(amber), new_report(red)], &police.actor(), now)
        .await
        .expect("stored");
    store
        .insert_reports(
            &bank,
            &[new_report(draft(FraudType::Webshop, "2026-11-01T10:00:00Z", &["fake-shop.nl"]))],
            &bank.actor(),
            now,
        )
        .await
        .expect("stored");
    let disputed = store
        .set_indicator_status(
            IndicatorKind::Domain,
            "fake-shop.nl",
            IndicatorStatus::Disputed,
            None,
            "partner:x",
            "domain:abc",
            now,
        )
        .await
        .expect("status");
    let cleared = store
        .set_indicator_status(
            IndicatorKind::Domain,
            "fake-shop.nl",
            IndicatorStatus::Cleared,
            None,
            "partner:x",
            "domain:abc",
            now,
        )
        .await
        .expect("status");
    assert!(cleared > disputed, "later statuses have later positions");

    let (mut index, head) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    assert_eq!(head, store.feed_head().await.expect("head"));
    let policy = ScoringPolicy::default();
    let iban = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    assert_eq!(
        index.view(iban, &bank.viewer(), now, &policy).reports,
        1,
        "the bank sees the AMBER report only"
    );
    assert_eq!(
        index.view(iban, &police.viewer(), now, &policy).reports,
        2,
        "the police see their RED report too"
    );
    let operator = Viewer {
        partner: 0,
        kind: PartnerKind::Operator,
    };
    assert_eq!(index.view(iban, &operator, now, &policy).status, CheckStatus::NotReported);
    let domain = index.key(IndicatorKind::Domain, "fake-shop.nl");
    assert_eq!(
        index.view(domain, &bank.viewer(), now, &policy).status,
        CheckStatus::NotReported,
        "cleared"
    );
    assert_eq!(index.status(domain), IndicatorStatus::Cleared);
    assert!(
        !index.set_status(domain, IndicatorStatus::Disputed, disputed),
        "the loaded status keeps its position: the older `disputed` arriving late is ignored"
    );
    assert_eq!(index.status(domain), IndicatorStatus::Cleared);
}

async fn audit_chain_verifies_and_detects_tampering(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let now = t("2026-11-02T00:00:00Z");
    store
        .insert_reports(
            &bank,
            &[new_report(draft(FraudType::Phishing, "2026-11-01T10:00:00Z", &["phish-bank.nl"]))],
            &bank.actor(),
            now,
        )
        .await
        .expect("stored");
    let read = AuditEvent {
        at: now,
        actor: bank.actor(),
        action: AuditAction::IndicatorRead,
        subject: "domain:0123".into(),
        details: "{}".into(),
    };
    store.append_audit(&[read.clone(), read]).await.expect("appended");
    let (seq, hash) = verify_audit(store.as_ref(), None, |_| {}).await.expect("read").expect("intact");
    assert_eq!(seq, 5, "partner, token, report and two reads");
    assert_eq!(store.audit_head().await.expect("head"), Some((seq, hash.clone())));
    let mine = store.audit_entries_of(&bank.actor(), 10).await.expect("query");
    assert_eq!(
        mine.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["indicator.read", "indicator.read", "report.create"]
    );
    assert!(
        mine.iter().all(|e| !e.details.contains("phish-bank")),
        "no indicator values in the audit log"
    );
    assert_eq!(
        verify_audit(store.as_ref(), Some((3, "bad")), |_| {})
            .await
            .expect("read")
            .map(|_| ()),
        Err(AuditBreak::ExpectedHead {
            expected: "bad".into(),
            actual: store.audit_entries(2, 1).await.expect("q")[0].hash.clone()
        })
    );

    db.tamper("UPDATE audit_log SET details = '{\"x\":1}' WHERE seq = 3", false)
        .await
        .expect_err("append-only: updates are refused");
    db.tamper("UPDATE audit_log SET details = '{\"x\":1}' WHERE seq = 3", true)
        .await
        .expect("tampered");
    assert_eq!(
        verify_audit(store.as_ref(), None, |_| {}).await.expect("read"),
        Err(AuditBreak::Altered { seq: 3 })
    );
    db.tamper("DELETE FROM audit_log WHERE seq = 3", true).await.expect("tampered");
    assert_eq!(
        verify_audit(store.as_ref(), None, |_| {}).await.expect("read"),
        Err(AuditBreak::Gap { previous: 2, found: 4 })
    );
    db.tamper("DELETE FROM audit_log WHERE seq >= 3", true).await.expect("tampered");
    assert_eq!(
        verify_audit(store.as_ref(), None, |_| {}).await.expect("read"),
        Err(AuditBreak::Truncated { last: 2, head: 5 })
    );
}

async fn settings_first_writer_wins(db: &TestDb) {
    let store = &db.store;
    assert_eq!(store.setting("audit_key").await.expect("query"), None);
    assert_eq!(store.setting_or_insert("audit_key", "first").await.expect("stored"), "first");
    assert_eq!(store.setting_or_insert("audit_key", "second").await.expect("stored"), "first");
    assert_eq!(store.setting("audit_key").await.expect("query").as_deref(), Some("first"));
}

async fn large_batches(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let mule = "NL91ABNA0417164300";
    let reports: Vec<_> = (0..1500)
        .map(|i| {
            let phone = format!("+316{:08}", 10_000_000 + i);
            let mut d = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &[mule, &phone]);
            d.external_id = Some(format!("batch-{i}"));
            new_report(d)
        })
        .collect();
    let out = store
        .insert_reports(&bank, &reports, &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    assert_eq!(out.iter().filter(|o| matches!(o, InsertOutcome::Created(_))).count(), 1500);
    let seqs: HashMap<i64, usize> = out
        .iter()
        .enumerate()
        .map(|(i, o)| match o {
            InsertOutcome::Created(r) => (r.seq, i),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs.len(), 1500, "every report has its own number");
    let row = store.indicator(IndicatorKind::Iban, mule).await.expect("query").expect("record");
    assert_eq!(row.reports, 1500);
    let out = store
        .insert_reports(&bank, &reports, &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    assert!(
        out.iter().all(|o| matches!(o, InsertOutcome::Existing { .. })),
        "a re-run stores nothing"
    );
    let (index, _) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    assert_eq!(index.len(), 1501);
    assert_eq!(
        verify_audit(store.as_ref(), None, |_| {}).await.expect("read").map(|(n, _)| n),
        Ok(2 + 1500)
    );
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

async fn payment_decisions_are_idempotent_and_keep_state(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let row = |id: &str, decision: &str, at: &str| PaymentDecisionRow {
        payment_id: id.to_owned(),
        request_digest: format!("digest-{id}"),
        decided_at: t(at),
        decision: decision.to_owned(),
        score: 0.42,
        reasons: r#"[{"code":"first_payment_to_payee"}]"#.to_owned(),
        rules_version: "builtin-1+abc".to_owned(),
    };
    let blob = |key: &str, byte: u8| StateBlob {
        key: key.to_owned(),
        state: vec![byte; 10],
    };
    let write = |partner_seq: i64, id: &str, decision: &str, state: u8, at: &str| DecisionWrite {
        partner_seq,
        decision: row(id, decision, at),
        payer: Some(blob("payer-1", state)),
        accounts: vec![blob("acct-1", state), blob("acct-2", state)],
    };
    let outcomes = store
        .store_decisions(&[
            write(bank.seq, "e2e-1", "warn", 1, "2026-11-20T10:00:00Z"),
            write(bank.seq, "e2e-2", "allow", 2, "2026-11-20T10:01:00Z"),
            write(bank.seq, "e2e-1", "block", 9, "2026-11-20T10:02:00Z"),
            write(other.seq, "e2e-1", "allow", 3, "2026-11-20T10:03:00Z"),
        ])
        .await
        .expect("stored");
    assert_eq!(outcomes[0], DecisionOutcome::Stored);
    assert_eq!(outcomes[1], DecisionOutcome::Stored);
    assert_eq!(
        outcomes[2],
        DecisionOutcome::Existing(row("e2e-1", "warn", "2026-11-20T10:00:00Z")),
        "a repeated id returns the first decision"
    );
    assert_eq!(outcomes[3], DecisionOutcome::Stored, "payment ids are per partner");
    assert_eq!(
        store.payment_decision(bank.seq, "e2e-1").await.expect("query"),
        Some(row("e2e-1", "warn", "2026-11-20T10:00:00Z"))
    );
    assert_eq!(store.payment_decision(bank.seq, "nope").await.expect("query"), None);
    let mut found = store
        .payment_decisions(bank.seq, &["e2e-2".to_owned(), "e2e-1".to_owned(), "nope".to_owned()])
        .await
        .expect("query");
    found.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
    assert_eq!(
        found.iter().map(|r| r.payment_id.as_str()).collect::<Vec<_>>(),
        vec!["e2e-1", "e2e-2"],
        "only the ids that exist"
    );
    let (payers, accounts) = store.screening_state(10).await.expect("query");
    assert_eq!(
        payers,
        vec![blob("payer-1", 3)],
        "the last stored write's state, not the refused one's"
    );
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|a| a.state == vec![3; 10]));
}

async fn call_lists_and_opt_outs(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other_bank = partner(store, "Bank B", PartnerKind::Bank).await;
    let telecom = partner(store, "Belnet", PartnerKind::Telecom).await;
    let now = t("2026-11-20T10:00:00Z");
    let numbers = vec!["+31201234567".to_owned(), "+31881234567".to_owned(), "+31201234567".to_owned()];
    let added = store
        .add_call_numbers("protected", &numbers, &bank, CallEntryState::Pending, &bank.actor(), now)
        .await
        .expect("added");
    assert!(matches!(&added[0], CallListAdd::Added(e) if e.state == CallEntryState::Pending && e.owner_id == bank.id));
    assert!(matches!(&added[1], CallListAdd::Added(_)));
    assert!(
        matches!(&added[2], CallListAdd::Existing(_)),
        "the same number twice in one request"
    );
    assert!(
        store.call_numbers("protected").await.expect("query").is_empty(),
        "pending entries are not screened"
    );
    let again = store
        .add_call_numbers(
            "protected",
            &numbers[..1],
            &other_bank,
            CallEntryState::Pending,
            &other_bank.actor(),
            now,
        )
        .await
        .expect("query");
    assert!(
        matches!(&again[0], CallListAdd::OwnedByOther(e) if e.owner_seq == bank.seq),
        "{again:?}"
    );
    let approved = store
        .approve_call_number("protected", "+31201234567", "partner:operator", now)
        .await
        .expect("approve")
        .expect("there");
    assert_eq!((approved.state, approved.approved_at), (CallEntryState::Active, Some(now)));
    assert!(
        store
            .approve_call_number("protected", "+31000000000", "x", now)
            .await
            .expect("query")
            .is_none()
    );
    store
        .add_call_numbers(
            "exception",
            &["+31612345678".to_owned()],
            &telecom,
            CallEntryState::Active,
            &telecom.actor(),
            now,
        )
        .await
        .expect("added");
    assert_eq!(store.call_numbers("protected").await.expect("query"), vec!["+31201234567"]);
    assert_eq!(store.call_list_entries("protected", Some(bank.seq)).await.expect("query").len(), 2);
    assert!(
        store
            .call_list_entries("protected", Some(other_bank.seq))
            .await
            .expect("query")
            .is_empty()
    );
    assert_eq!(store.call_list_entries("protected", None).await.expect("query").len(), 2);

    assert!(matches!(
        store
            .remove_call_number("protected", "+31201234567", Some(other_bank.seq), &other_bank.actor(), now)
            .await
            .expect("query"),
        CallListRemove::NotOwner(_)
    ));
    assert_eq!(
        store.call_numbers("protected").await.expect("query"),
        vec!["+31201234567"],
        "another bank cannot remove it"
    );
    assert!(matches!(
        store
            .remove_call_number("protected", "+31881234567", Some(bank.seq), &bank.actor(), now)
            .await
            .expect("removed"),
        CallListRemove::Removed(_)
    ));
    assert!(matches!(
        store
            .remove_call_number("protected", "+31881234567", None, "partner:operator", now)
            .await
            .expect("query"),
        CallListRemove::NotFound
    ));
    assert!(matches!(
        store
            .remove_call_number("protected", "+31201234567", None, "partner:operator", now)
            .await
            .expect("an operator removes anyone's"),
        CallListRemove::Removed(_)
    ));
    assert!(store.call_numbers("protected").await.expect("query").is_empty());
    assert_eq!(store.call_numbers("exception").await.expect("query"), vec!["+31612345678"]);
    let history = store.call_list_history("protected", "+31201234567").await.expect("history");
    let changes: Vec<(&str, &str)> = history.iter().map(|c| (c.change.as_str(), c.actor.as_str())).collect();
    let bank_actor = bank.actor();
    assert_eq!(
        changes,
        vec![
            ("requested", bank_actor.as_str()),
            ("approved", "partner:operator"),
            ("removed", "partner:operator")
        ]
    );
    assert!(history.iter().all(|c| c.owner_id == bank.id));
    assert!(store.call_list_entry("protected", "+31201234567").await.expect("query").is_none());
    let audited = store.audit_entries_of(&bank.actor(), 10).await.expect("audit");
    assert_eq!(
        audited.iter().filter(|e| e.action == "call_list.change").count(),
        2,
        "requested and removed"
    );

    store.set_opt_out("ref-1", true, now).await.expect("opt out");
    store.set_opt_out("ref-1", true, now).await.expect("twice is fine");
    store.set_opt_out("ref-2", true, now).await.expect("opt out");
    store.set_opt_out("ref-2", false, now).await.expect("opt in again");
    assert_eq!(store.opt_outs().await.expect("query"), vec!["ref-1"]);
}

async fn pnbf_cases_versions_and_due_terms(db: &TestDb) {
    let store = &db.store;
    let victim = partner(store, "Bank A", PartnerKind::Bank).await;
    let payee = partner(store, "Bank B", PartnerKind::Bank).await;
    let other = partner(store, "Bank C", PartnerKind::Bank).await;
    let opened = t("2026-11-01T09:00:00Z");
    let case = PnbfCaseRow {
        id: "case-1".to_owned(),
        victim_bank: victim.seq,
        payee_bank: Some(payee.seq),
        state: "requested".to_owned(),
        version: 1,
        opened_at: opened,
        updated_at: opened,
        term_ends: Some(t("2026-11-22T09:00:00Z")),
        remind_at: Some(t("2026-11-19T09:00:00Z")),
        naw_delete_at: None,
        link_digest: "digest-1".to_owned(),
        body: r#"{"amount":"125.00"}"#.to_owned(),
        naw: None,
    };
    let event = |seq: i64, name: &str, from: Option<&str>, to: &str| PnbfEventRow {
        case_id: "case-1".to_owned(),
        seq,
        at: opened,
        actor: victim.actor(),
        side: "victim_bank".to_owned(),
        event: name.to_owned(),
        from_state: from.map(str::to_owned),
        to_state: to.to_owned(),
        reason: None,
        details: "{}".to_owned(),
    };
    store.pnbf_open(&case, &event(1, "open", None, "requested")).await.expect("opened");
    assert_eq!(store.pnbf_case("case-1").await.expect("read"), Some(case.clone()));
    assert_eq!(store.pnbf_case_by_link("digest-1").await.expect("read"), Some(case.clone()));
    assert_eq!(store.pnbf_case("case-2").await.expect("read"), None);
    assert_eq!(store.pnbf_cases(Some(victim.seq)).await.expect("list").len(), 1);
    assert_eq!(store.pnbf_cases(Some(payee.seq)).await.expect("list").len(), 1);
    assert!(store.pnbf_cases(Some(other.seq)).await.expect("list").is_empty());
    assert_eq!(store.pnbf_cases(None).await.expect("list").len(), 1);

    // Terms: nothing due before the reminder; the reminder, then the term.
    assert!(store.pnbf_due(t("2026-11-18T09:00:00Z")).await.expect("due").is_empty());
    assert_eq!(store.pnbf_due(t("2026-11-19T09:00:00Z")).await.expect("due").len(), 1);

    // A change applies only to the version it was made from.
    let mut moved = case.clone();
    moved.state = "refused".to_owned();
    moved.version = 2;
    moved.term_ends = None;
    moved.remind_at = None;
    moved.naw = Some(vec![1, 2, 3]);
    moved.link_digest = "digest-2".to_owned();
    moved.naw_delete_at = Some(t("2027-05-01T00:00:00Z"));
    assert!(
        store
            .pnbf_update(&moved, 1, &event(2, "refused", Some("requested"), "refused"))
            .await
            .expect("moved")
    );
    assert!(
        !store
            .pnbf_update(&moved, 1, &event(2, "refused", Some("requested"), "refused"))
            .await
            .expect("stale")
    );
    assert_eq!(store.pnbf_case("case-1").await.expect("read"), Some(moved.clone()));
    assert_eq!(
        store.pnbf_case_by_link("digest-1").await.expect("read"),
        None,
        "the old link is gone"
    );
    assert!(store.pnbf_case_by_link("digest-2").await.expect("read").is_some());
    let events = store.pnbf_events("case-1").await.expect("events");
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(events[1], event(2, "refused", Some("requested"), "refused"));
    assert!(store.pnbf_due(t("2026-12-01T00:00:00Z")).await.expect("due").is_empty());
    assert_eq!(store.pnbf_due(t("2027-05-01T00:00:00Z")).await.expect("due").len(), 1);

    // The bank-code directory.
    store.pnbf_set_bank_code("ABNA", Some(victim.seq), opened).await.expect("set");
    store.pnbf_set_bank_code("INGB", Some(other.seq), opened).await.expect("set");
    store.pnbf_set_bank_code("INGB", Some(payee.seq), opened).await.expect("moved");
    store.pnbf_set_bank_code("RABO", Some(payee.seq), opened).await.expect("set");
    store.pnbf_set_bank_code("RABO", None, opened).await.expect("removed");
    assert_eq!(
        store.pnbf_bank_codes().await.expect("list"),
        vec![("ABNA".to_owned(), victim.seq), ("INGB".to_owned(), payee.seq)]
    );
}
