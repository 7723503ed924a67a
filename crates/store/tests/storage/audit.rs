//! The audit chain and its verification.

use crate::support::{TestDb, draft, new_report, partner, t};
use vangnet_core::audit::{AuditAction, AuditBreak, AuditEvent};
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::FraudType;
use vangnet_store::verify_audit;

crate::storage_tests! {
    audit_chain_verifies_and_detects_tampering,
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
