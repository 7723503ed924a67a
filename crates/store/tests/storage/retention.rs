//! Retention: candidates are the reports received before the cut-off or naming an indicator
//! cleared before it; deleting takes a report and what only it held away, leaves a feed row per
//! indicator and one audit entry, and does nothing the second time.

use vangnet_core::PartnerKind;
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::FraudType;
use vangnet_store::{ChangeEvent, Deletion};

use crate::support::{TestDb, draft, new_report, partner, t};

crate::storage_tests! {
    old_reports_are_deleted_with_what_only_they_held,
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
