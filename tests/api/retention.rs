//! Retention that deletes, through the running server: reports past their term leave the
//! registry and every check once the sweep ran (the clock moved on two years), an erased report
//! at once; the audit log keeps its chain.

use std::time::Duration;

use crate::api_tests;
use crate::helpers::{TestApp, report_body};

api_tests! {
    reports_past_their_term_are_deleted_and_leave_every_check,
}

const DAY: Duration = Duration::from_secs(86_400);

async fn reports_past_their_term_are_deleted_and_leave_every_check(app: &TestApp) {
    let state = app.state.as_ref().expect("state");
    let value = "NL20INGB0001234567";
    let first = app.report(&app.police, report_body("marketplace", "green", &[value])).await;
    app.report(&app.other_bank, report_body("marketplace", "green", &[value])).await;
    assert_eq!(app.bank.check(value).await["status"], "reported");
    // An operator erases one report at once.
    let other = "fout-gemelde-winkel.nl";
    let report = app.report(&app.police, report_body("webshop", "green", &[other])).await;
    assert_eq!(app.bank.check(other).await["status"], "reported");
    let erased = state
        .erase_report(report["id"].as_str().expect("id"), "AVG art. 16: wrong shop", "cli")
        .await
        .expect("erase");
    assert!(erased.is_some());
    assert_eq!(app.bank.check(other).await["status"], "not_reported");
    assert!(
        state
            .erase_report("00000000-0000-0000-0000-000000000000", "x", "cli")
            .await
            .expect("answer")
            .is_none()
    );
    let nothing = state.sweep_retention().await.expect("sweep");
    assert_eq!(nothing.deleted, 0, "nothing is due yet");
    state.settings.clock.advance(DAY * 731);
    let swept = state.sweep_retention().await.expect("sweep");
    assert_eq!(swept.deleted, 2, "{swept:?}");
    assert_eq!(app.bank.check(value).await["status"], "not_reported");
    let id = first["id"].as_str().expect("id");
    let (status, _) = app.police.get(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(status, 404, "the report itself is gone");
    let (status, record) = app.police.get(&format!("/api/v1/indicators/iban/{value}")).await;
    assert_eq!((status, record["reports"].as_u64()), (200, Some(0)), "{record}");
    assert_eq!(state.sweep_retention().await.expect("sweep").deleted, 0, "idempotent");

    assert!(
        vangnet_store::verify_audit(app.store.as_ref(), None, |_| {})
            .await
            .expect("verify")
            .is_ok(),
        "the chain holds"
    );
}
