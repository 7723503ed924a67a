//! Retention: candidates are the reports received before the cut-off or naming an indicator
//! cleared before it; deleting takes a report and what only it held away, leaves a feed row per
//! indicator and one audit entry, and does nothing the second time.

use vangnet_core::PartnerKind;
use vangnet_core::dispute::{ClearanceOutcome, DisputeState, RequestState};
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::FraudType;
use vangnet_store::{ChangeEvent, DecidedCases, Deletion, DisputeChange, NewDispute, NewDisputeRequest, RequestDecision};

use crate::support::{TestDb, draft, new_report, partner, t};

crate::storage_tests! {
    old_reports_are_deleted_with_what_only_they_held,
    decided_cases_go_after_their_term_and_undecided_ones_stay,
}

const OLD_IBAN: &str = "NL91ABNA0417164300";
const SHARED_PHONE: &str = "+31612345678";

async fn old_reports_are_deleted_with_what_only_they_held(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Noorderbank", PartnerKind::Bank).await;
    let old = new_report(draft(FraudType::Marketplace, "2024-01-01T10:00:00Z", &[OLD_IBAN, SHARED_PHONE]));
    store
        .insert_reports(&bank, &[old], &bank.actor(), t("2024-01-02T10:00:00Z"))
        .await
        .expect("old report");
    let recent = new_report(draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &[SHARED_PHONE]));
    store
        .insert_reports(&bank, &[recent], &bank.actor(), t("2026-11-02T10:00:00Z"))
        .await
        .expect("recent report");
    let cutoff = t("2025-01-01T00:00:00Z");
    let candidates = store.retention_candidates(0, cutoff, cutoff, 100).await.expect("candidates");
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    let old = &candidates[0];
    assert_eq!(
        (old.fraud_type, old.source, old.received_at),
        (FraudType::Marketplace, PartnerKind::Bank, t("2024-01-02T10:00:00Z"))
    );
    assert_eq!(old.cleared_at, None);
    let head = store.feed_head().await.expect("head");
    let now = t("2026-12-01T00:00:00Z");
    let deleted = store
        .delete_reports(&[old.seq], Deletion::Retention, "system:retention", now)
        .await
        .expect("deleted");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].indicators.len(), 2);
    assert_eq!(store.report(&old.id).await.expect("read"), None, "the report is gone");
    assert_eq!(
        store.indicator(IndicatorKind::Iban, OLD_IBAN).await.expect("read"),
        None,
        "a record only the deleted report held is gone"
    );
    let phone = store
        .indicator(IndicatorKind::Phone, SHARED_PHONE)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(phone.reports, 1, "the shared record counts the remaining report");
    let changes = store.changes_since(head, 100).await.expect("feed");
    let deletions: Vec<_> = changes
        .iter()
        .filter_map(|c| match &c.event {
            ChangeEvent::Deletion { report_seq, kind, .. } => Some((*report_seq, *kind)),
            _ => None,
        })
        .collect();
    assert_eq!(deletions, [(old.seq, IndicatorKind::Iban), (old.seq, IndicatorKind::Phone)]);
    let again = store
        .delete_reports(&[old.seq], Deletion::Retention, "system:retention", now)
        .await
        .expect("answered");
    assert!(again.is_empty(), "a second sweep finds nothing");
    assert!(
        store
            .retention_candidates(0, cutoff, cutoff, 100)
            .await
            .expect("candidates")
            .is_empty()
    );
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let entries: Vec<_> = audit.iter().filter(|e| e.action == "retention.delete").collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].details, "{\"reports\":1}");
    assert!(audit.iter().all(|e| !e.details.contains(OLD_IBAN)));

    // A report about a cleared indicator is a candidate once the clearing is old enough,
    // however recent the report; an erasure names its reason.
    store
        .set_indicator_status(
            IndicatorKind::Phone,
            SHARED_PHONE,
            IndicatorStatus::Cleared,
            None,
            "partner:police",
            "p",
            t("2026-11-05T00:00:00Z"),
        )
        .await
        .expect("cleared");
    let before = store
        .retention_candidates(0, cutoff, t("2026-11-01T00:00:00Z"), 100)
        .await
        .expect("candidates");
    assert!(before.is_empty());
    let after = store
        .retention_candidates(0, cutoff, t("2026-12-10T00:00:00Z"), 100)
        .await
        .expect("candidates");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].cleared_at, Some(t("2026-11-05T00:00:00Z")));
    store
        .delete_reports(
            &[after[0].seq],
            Deletion::Erasure {
                reason: "AVG art. 17 request",
            },
            "cli",
            now,
        )
        .await
        .expect("erased");
    let phone = store
        .indicator(IndicatorKind::Phone, SHARED_PHONE)
        .await
        .expect("read")
        .expect("kept: it is cleared");
    assert_eq!(
        (phone.reports, phone.status),
        (0, IndicatorStatus::Cleared),
        "the clearing stays, so it is never listed again"
    );
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "report.erase" && e.details.contains("AVG art. 17 request"))
    );
}

async fn decided_cases_go_after_their_term_and_undecided_ones_stay(db: &TestDb) {
    let store = &db.store;
    let helpdesk = partner(store, "Fraudehelpdesk", PartnerKind::Helpdesk).await;
    let dispute = |id: &str, value: &str| NewDispute {
        id: id.to_owned(),
        kind: IndicatorKind::Iban,
        value: value.to_owned(),
        reason: "the holder delivered the bicycle".to_owned(),
        due_at: t("2026-01-15T10:00:00Z"),
        remind_at: None,
        audit_subject: "p".to_owned(),
    };
    store
        .open_dispute(&dispute("d-old", OLD_IBAN), &helpdesk, t("2026-01-01T10:00:00Z"))
        .await
        .expect("opened");
    store
        .open_dispute(&dispute("d-open", "NL02ABNA0123456789"), &helpdesk, t("2026-01-01T10:00:00Z"))
        .await
        .expect("opened");
    let change = DisputeChange {
        to: DisputeState::Upheld,
        expected_version: 1,
        reason: "confirmed by the holder's bank".to_owned(),
        audit_subject: "p".to_owned(),
    };
    store
        .move_dispute("d-old", &change, "partner:police", t("2026-01-05T10:00:00Z"))
        .await
        .expect("moved")
        .expect("upheld");
    let objection = |id: &str| NewDisputeRequest {
        id: id.to_owned(),
        kind: IndicatorKind::Phone,
        value: SHARED_PHONE.to_owned(),
        reason: "Dit is mijn nummer.".to_owned(),
        contact: Some("houder@example.nl".to_owned()),
        language: "nl".to_owned(),
        submitter: "s".to_owned(),
    };
    store
        .add_dispute_request(&objection("r-old"), t("2026-01-02T10:00:00Z"))
        .await
        .expect("stored");
    store
        .add_dispute_request(&objection("r-pending"), t("2026-01-02T10:00:00Z"))
        .await
        .expect("stored");
    let decline = RequestDecision {
        to: RequestState::Declined,
        reason: "the number was reported with a police report".to_owned(),
        dispute_id: None,
    };
    assert!(
        store
            .decide_dispute_request("r-old", &decline, "partner:helpdesk", t("2026-01-06T10:00:00Z"))
            .await
            .expect("decided")
    );
    // A clearance review: a report about the cleared IBAN opens one; closing it decides it.
    let bank = partner(store, "Noorderbank", PartnerKind::Bank).await;
    let report = new_report(draft(FraudType::Marketplace, "2026-01-06T10:00:00Z", &[OLD_IBAN]));
    store
        .insert_reports(&bank, &[report], &bank.actor(), t("2026-01-06T11:00:00Z"))
        .await
        .expect("stored");
    let reviews = store.clearance_reviews(true, None, 10).await.expect("reviews");
    assert_eq!(reviews.len(), 1);
    store
        .close_clearance_review(
            reviews[0].seq,
            ClearanceOutcome::KeptCleared,
            "the new report repeats the old one",
            "partner:police",
            "p",
            t("2026-01-07T10:00:00Z"),
        )
        .await
        .expect("closed");

    let cutoff = t("2026-02-01T00:00:00Z");
    let due = DecidedCases {
        disputes: 1,
        objections: 1,
        clearance_reviews: 1,
    };
    assert_eq!(
        store.decided_cases_before(t("2026-01-01T00:00:00Z")).await.expect("counted"),
        DecidedCases::default()
    );
    assert_eq!(store.decided_cases_before(cutoff).await.expect("counted"), due);
    let now = t("2027-02-01T00:00:00Z");
    assert_eq!(
        store.delete_decided_cases(cutoff, "system:retention", now).await.expect("deleted"),
        due
    );
    assert_eq!(store.dispute("d-old").await.expect("read"), None);
    assert!(
        store.dispute_events("d-old").await.expect("read").is_empty(),
        "the history goes with it"
    );
    assert!(store.dispute("d-open").await.expect("read").is_some(), "an open dispute stays");
    assert_eq!(
        store.dispute_request("r-old").await.expect("read"),
        None,
        "the contact details are gone"
    );
    assert!(
        store.dispute_request("r-pending").await.expect("read").is_some(),
        "a pending objection stays"
    );
    assert!(store.clearance_reviews(false, None, 10).await.expect("reviews").is_empty());
    assert_eq!(
        store
            .indicator(IndicatorKind::Iban, OLD_IBAN)
            .await
            .expect("read")
            .map(|r| r.status),
        Some(IndicatorStatus::Cleared),
        "the decision's effect stays"
    );
    assert_eq!(
        store.delete_decided_cases(cutoff, "system:retention", now).await.expect("deleted"),
        DecidedCases::default(),
        "nothing twice"
    );
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let entries: Vec<_> = audit.iter().filter(|e| e.action == "retention.delete").collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].details, "{\"clearance_reviews\":1,\"disputes\":1,\"objections\":1}");
}
