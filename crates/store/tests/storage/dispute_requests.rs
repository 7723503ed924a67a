//! Objections from the public form (the first decision stands, with its audit entry) and the
//! review a new report about a cleared indicator opens (one open review per indicator, counting
//! the reports; closing it sets the status through the change feed).

use vangnet_core::PartnerKind;
use vangnet_core::dispute::{ClearanceOutcome, RequestState};
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::FraudType;
use vangnet_store::{ChangeEvent, NewDisputeRequest, RequestDecision};

use crate::support::{TestDb, draft, new_report, partner, t};

crate::storage_tests! {
    a_request_is_decided_once,
    a_report_about_a_cleared_indicator_opens_one_review,
}

const IBAN: &str = "NL91ABNA0417164300";

fn request(id: &str) -> NewDisputeRequest {
    NewDisputeRequest {
        id: id.to_owned(),
        kind: IndicatorKind::Iban,
        value: IBAN.to_owned(),
        reason: "Dit is mijn rekening; ik heb de fiets echt geleverd.".to_owned(),
        contact: Some("verkoper@example.nl".to_owned()),
        language: "nl".to_owned(),
        submitter: "pseudonym-of-the-address".to_owned(),
    }
}

async fn a_request_is_decided_once(db: &TestDb) {
    let store = &db.store;
    store
        .add_dispute_request(&request("r-1"), t("2026-12-01T09:00:00Z"))
        .await
        .expect("stored");
    store
        .add_dispute_request(&request("r-2"), t("2026-12-01T09:05:00Z"))
        .await
        .expect("stored");
    let pending = store.dispute_requests(Some(RequestState::Pending), None, 10).await.expect("list");
    assert_eq!(pending.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r-1", "r-2"]);
    assert_eq!(pending[0].contact.as_deref(), Some("verkoper@example.nl"));
    let after = store.dispute_requests(None, Some("r-1"), 10).await.expect("page");
    assert_eq!(after.len(), 1);
    let accept = RequestDecision {
        to: RequestState::Accepted,
        reason: "the holder showed the delivery receipt".to_owned(),
        dispute_id: Some("d-9".to_owned()),
    };
    let now = t("2026-12-02T10:00:00Z");
    assert!(
        store
            .decide_dispute_request("r-1", &accept, "partner:helpdesk", now)
            .await
            .expect("decided")
    );
    let decline = RequestDecision {
        to: RequestState::Declined,
        reason: "second thoughts".to_owned(),
        dispute_id: None,
    };
    assert!(
        !store
            .decide_dispute_request("r-1", &decline, "partner:other", now)
            .await
            .expect("answered"),
        "the first decision stands"
    );
    assert!(
        !store
            .decide_dispute_request("r-404", &decline, "partner:other", now)
            .await
            .expect("answered")
    );
    let row = store.dispute_request("r-1").await.expect("read").expect("there");
    assert_eq!(row.state, RequestState::Accepted);
    assert_eq!(row.dispute_id.as_deref(), Some("d-9"));
    assert_eq!(row.decided_by.as_deref(), Some("partner:helpdesk"));
    assert_eq!(row.decided_at, Some(now));
    let pending = store.dispute_requests(Some(RequestState::Pending), None, 10).await.expect("list");
    assert_eq!(pending.len(), 1);
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let decided: Vec<_> = audit.iter().filter(|e| e.action == "dispute_request.decide").collect();
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0].subject, "dispute_request:r-1");
    assert!(audit.iter().all(|e| !e.details.contains("verkoper@") && !e.details.contains(IBAN)));
}

async fn a_report_about_a_cleared_indicator_opens_one_review(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Noorderbank", PartnerKind::Bank).await;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    let first = new_report(draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &[IBAN]));
    store
        .insert_reports(&bank, &[first], &bank.actor(), t("2026-11-01T11:00:00Z"))
        .await
        .expect("filed");
    assert!(
        store.clearance_reviews(true, None, 10).await.expect("list").is_empty(),
        "an active indicator needs no review"
    );
    store
        .set_indicator_status(
            IndicatorKind::Iban,
            IBAN,
            IndicatorStatus::Cleared,
            Some("wrongly listed"),
            &police.actor(),
            "pseudonym",
            t("2026-11-05T10:00:00Z"),
        )
        .await
        .expect("cleared");
    let again: Vec<_> = ["2026-11-10T10:00:00Z", "2026-11-11T10:00:00Z"]
        .iter()
        .map(|w| new_report(draft(FraudType::Marketplace, w, &[IBAN, "+31612345678"])))
        .collect();
    store
        .insert_reports(&bank, &again[..1], &bank.actor(), t("2026-11-10T11:00:00Z"))
        .await
        .expect("filed");
    store
        .insert_reports(&bank, &again[1..], &bank.actor(), t("2026-11-11T11:00:00Z"))
        .await
        .expect("filed");
    let open = store.clearance_reviews(true, None, 10).await.expect("list");
    assert_eq!(
        open.len(),
        1,
        "one open review per indicator, and none for the active phone number: {open:?}"
    );
    let review = &open[0];
    assert_eq!((review.kind, review.value.as_str(), review.reports), (IndicatorKind::Iban, IBAN, 2));
    assert_eq!(review.opened_at, t("2026-11-10T11:00:00Z"));
    let row = store.indicator(IndicatorKind::Iban, IBAN).await.expect("read").expect("record");
    assert_eq!(row.status, IndicatorStatus::Cleared, "a new report does not reactivate it");
    let head = store.feed_head().await.expect("head");
    let now = t("2026-11-12T10:00:00Z");
    let (closed, position) = store
        .close_clearance_review(
            review.seq,
            ClearanceOutcome::Reactivated,
            "the holder sells again",
            &police.actor(),
            "pseudonym",
            now,
        )
        .await
        .expect("closed")
        .expect("was open");
    assert!(position > head);
    assert_eq!(closed.outcome, Some(ClearanceOutcome::Reactivated));
    assert_eq!(closed.closed_at, Some(now));
    assert!(
        store
            .close_clearance_review(
                review.seq,
                ClearanceOutcome::KeptCleared,
                "again",
                &police.actor(),
                "pseudonym",
                now
            )
            .await
            .expect("answered")
            .is_none(),
        "a closed review stays closed"
    );
    let changes = store.changes_since(head, 10).await.expect("changes");
    assert!(changes.iter().any(|c| matches!(
        &c.event,
        ChangeEvent::Status { value, status: IndicatorStatus::Active, .. } if value == IBAN
    )));
    assert!(store.clearance_reviews(true, None, 10).await.expect("list").is_empty());
    assert_eq!(store.clearance_reviews(false, None, 10).await.expect("list").len(), 1);
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "clearance_review.close"));
}
