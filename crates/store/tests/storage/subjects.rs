//! Subject access: the audit entries about one value by pseudonym and report id (nothing about
//! other values), and its objections and clearance reviews.

use vangnet_core::PartnerKind;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::FraudType;
use vangnet_store::{InsertOutcome, MAX_AUDIT_SUBJECTS, NewDisputeRequest};

use crate::support::{TestDb, draft, new_report, partner, t};

crate::storage_tests! {
    everything_about_one_value_is_found_and_nothing_else,
}

const IBAN: &str = "NL91ABNA0417164300";
const OTHER: &str = "NL02ABNA0123456789";

async fn everything_about_one_value_is_found_and_nothing_else(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Noorderbank", PartnerKind::Bank).await;
    let reports = [
        new_report(draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &[IBAN, "+31612345678"])),
        new_report(draft(FraudType::Marketplace, "2026-11-02T10:00:00Z", &[OTHER])),
        new_report(draft(FraudType::Webshop, "2026-11-03T10:00:00Z", &[IBAN])),
    ];
    let stored = store
        .insert_reports(&bank, &reports, &bank.actor(), t("2026-11-04T10:00:00Z"))
        .await
        .expect("stored");
    let ids: Vec<(i64, String)> = stored
        .iter()
        .map(|o| match o {
            InsertOutcome::Created(r) => (r.seq, r.id.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let read = |subject: &str| AuditEvent {
        at: t("2026-11-05T10:00:00Z"),
        actor: bank.actor(),
        action: AuditAction::IndicatorRead,
        subject: subject.to_owned(),
        details: "{}".to_owned(),
    };
    store
        .append_audit(&[
            read("indicator:iban:aaaa"),
            read("indicator:iban:bbbb"),
            read(&format!("report:{}", ids[2].1)),
        ])
        .await
        .expect("audited");
    let subjects = vec!["indicator:iban:aaaa".to_owned(), format!("report:{}", ids[2].1)];
    let about = store.audit_about(&subjects, 0, 100).await.expect("entries");
    assert!(about.iter().all(|e| subjects.contains(&e.subject)), "{about:?}");
    // The report's own creation entry and the read of it, and the read of the pseudonym.
    assert_eq!(about.iter().filter(|e| e.subject == subjects[1]).count(), 2, "{about:?}");
    assert_eq!(about.iter().filter(|e| e.subject == subjects[0]).count(), 1);
    let after = store.audit_about(&subjects, about[0].seq, 100).await.expect("entries");
    assert_eq!(after.len(), about.len() - 1, "paged by sequence number");
    assert!(store.audit_about(&[], 0, 100).await.expect("entries").is_empty());
    let many: Vec<String> = (0..MAX_AUDIT_SUBJECTS + 10).map(|i| format!("report:{i}")).collect();
    store
        .audit_about(&many, 0, 10)
        .await
        .expect("a long list is cut to the bound, not refused");

    store
        .add_dispute_request(
            &NewDisputeRequest {
                id: "r-1".to_owned(),
                kind: IndicatorKind::Iban,
                value: IBAN.to_owned(),
                reason: "Dit is mijn rekening.".to_owned(),
                contact: None,
                language: "nl".to_owned(),
                submitter: "s".to_owned(),
            },
            t("2026-11-06T10:00:00Z"),
        )
        .await
        .expect("stored");
    let requests = store.dispute_requests_about(IndicatorKind::Iban, IBAN).await.expect("requests");
    assert_eq!(requests.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r-1"]);
    assert!(
        store
            .dispute_requests_about(IndicatorKind::Iban, OTHER)
            .await
            .expect("requests")
            .is_empty()
    );
    assert!(
        store
            .clearance_reviews_about(IndicatorKind::Iban, IBAN)
            .await
            .expect("reviews")
            .is_empty()
    );
}
