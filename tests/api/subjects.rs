//! Subject access through the running server: the export lists every report naming the value
//! (a report the requester may not read under TLP with its text withheld), the status history,
//! the dispute with its moves, who read or checked it, and the deletion date of each item; it is
//! audited, so the next export lists it; the police and the operator only, with the `export`
//! scope; JSON and a printable Dutch page.

use std::time::Duration;

use serde_json::json;
use vangnet_core::Timestamp;
use vangnet_core::scope::{Scope, Scopes};
use vangnet_core::token::ApiToken;

use crate::api_tests;
use crate::helpers::{TestApp, report_body};

api_tests! {
    the_export_holds_everything_about_one_value,
}

const IBAN: &str = "NL20INGB0001234567";
const DAY_MS: i64 = 86_400_000;

async fn the_export_holds_everything_about_one_value(app: &TestApp) {
    let path = format!("/api/v1/subjects/iban/{IBAN}/export");
    let (status, empty) = app.police.get(&path).await;
    assert_eq!(status, 200, "{empty}");
    assert!(
        empty["record"].is_null() && empty["reports"].as_array().is_some_and(Vec::is_empty),
        "{empty}"
    );

    let mut green = report_body("marketplace", "green", &[IBAN, "+31612345678"]);
    green["description"] = json!("Fiets betaald, nooit geleverd.");
    app.report(&app.police, green).await;
    let mut red = report_body("webshop", "red", &[IBAN]);
    red["description"] = json!("Alleen voor de eigen bank.");
    app.report(&app.bank, red).await;
    assert_eq!(app.other_bank.check(IBAN).await["status"], "reported");
    let (status, _) = app.other_bank.get(&format!("/api/v1/indicators/iban/{IBAN}")).await;
    assert_eq!(status, 200);

    // A dispute, upheld: disputed, then cleared.
    let (status, dispute) = app
        .police
        .post(
            "/api/v1/disputes",
            &json!({"kind": "iban", "value": IBAN, "reason": "De houder verkocht echt een fiets."}),
        )
        .await;
    assert_eq!(status, 201, "{dispute}");
    let id = dispute["id"].as_str().expect("id");
    let (status, decided) = app
        .operator
        .post(
            &format!("/api/v1/disputes/{id}/decision"),
            &json!({"outcome": "upheld", "reason": "Levering bevestigd door de bank van de houder."}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    // Check hits reach the audit log after their counting window (200 ms in the tests).
    tokio::time::sleep(Duration::from_millis(800)).await;

    let (status, export) = app.police.get(&path).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["kind"], "iban");
    assert_eq!(export["value"], IBAN);
    assert_eq!(export["requested_by"]["kind"], "partner");
    assert_eq!(export["record"]["status"], "cleared");
    let reports = export["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 2, "{export}");
    let green = reports.iter().find(|r| r["tlp"] == "green").expect("green");
    assert_eq!(
        (
            green["text"].as_str(),
            green["text_withheld"].as_bool(),
            green["source_kind"].as_str()
        ),
        (Some("Fiets betaald, nooit geleverd."), Some(false), Some("police"))
    );
    assert_eq!(
        (green["fraud_type"].as_str(), green["role"].as_str()),
        (Some("marketplace"), Some("payee"))
    );
    let red = reports.iter().find(|r| r["tlp"] == "red").expect("red");
    assert_eq!(red["text_withheld"], true, "TLP:RED of another partner: text withheld");
    assert!(red.get("text").is_none(), "{red}");
    assert_eq!(
        (red["source_kind"].as_str(), red["fraud_type"].as_str()),
        (Some("bank"), Some("webshop"))
    );
    assert!(
        !export.to_string().contains("Alleen voor de eigen bank"),
        "no TLP:RED text anywhere"
    );
    // Reports about a cleared value go retention.cleared_days (30) after the clearing.
    let now = Timestamp::now();
    for r in reports {
        let at = Timestamp::parse_rfc3339(r["delete_at"].as_str().expect("delete_at")).expect("time");
        assert!(at > now && at <= now.plus_millis(31 * DAY_MS), "{r}");
    }

    let statuses: Vec<&str> = export["status_history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(statuses, ["disputed", "cleared"], "{export}");
    let d = &export["disputes"][0];
    assert_eq!((d["id"].as_str(), d["state"].as_str()), (Some(id), Some("upheld")));
    assert_eq!(d["reason"], "De houder verkocht echt een fiets.");
    let events: Vec<&str> = d["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(events, ["opened", "upheld"]);
    assert_eq!(d["events"][1]["by"]["partner_kind"], "operator");
    let decided_at = Timestamp::parse_rfc3339(d["decided_at"].as_str().expect("decided")).expect("time");
    assert_eq!(
        d["delete_at"].as_str(),
        Some(decided_at.plus_millis(365 * DAY_MS).to_rfc3339().as_str())
    );

    let accesses = export["accesses"].as_array().expect("accesses");
    let by_other_bank = |kind: &str| {
        accesses
            .iter()
            .any(|a| a["kind"] == kind && a["by"]["name"] == app.other_bank.partner.name.as_str() && a["by"]["partner_kind"] == "bank")
    };
    assert!(by_other_bank("check_hit"), "the other bank's check: {export}");
    assert!(by_other_bank("record_read"), "the other bank's read of the record: {export}");
    assert!(accesses.iter().any(|a| a["kind"] == "dispute_read" || a["kind"] == "check_hit"));
    assert!(
        export["earlier_exports"].as_array().expect("exports").len() == 1,
        "the empty export before: {export}"
    );

    // The export is audited, pseudonymously; the next one lists it.
    let (_, again) = app.operator.get(&path).await;
    let earlier = again["earlier_exports"].as_array().expect("exports");
    assert_eq!(earlier.len(), 2, "{again}");
    assert_eq!(earlier[1]["by"]["partner_kind"], "police");
    let audit = app.store.audit_entries(0, 10_000).await.expect("audit");
    let exports: Vec<_> = audit.iter().filter(|e| e.action == "subject.export").collect();
    assert_eq!(exports.len(), 3);
    assert!(
        exports
            .iter()
            .all(|e| e.subject.starts_with("indicator:iban:") && !e.subject.contains(IBAN))
    );
    // The operator reads under TLP as the operator kind: green only.
    let texts: Vec<bool> = again["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| r["text_withheld"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(texts.iter().filter(|w| **w).count(), 1);

    // The printable page says it in words.
    let page = app.police.text(&format!("{path}?format=html")).await;
    for words in [
        "Wat Vangnet bewaart over dit gegeven",
        IBAN,
        "controle met treffer",
        "toegekend: vrijgegeven",
        "TLP:RED",
        "Eerdere inzageverzoeken",
    ] {
        assert!(page.contains(words), "{words} missing");
    }
    assert!(!page.contains("check_hit") && !page.contains("Alleen voor de eigen bank"));

    // Who may ask, and what is refused.
    let (status, body) = app.bank.get(&path).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let token = ApiToken::generate().expect("randomness");
    app.store
        .add_scoped_token(
            &app.police.partner.id,
            &token.digest(),
            "checks only",
            Some(Scopes::of(&[Scope::Check])),
            Some("controles"),
            "test",
            Timestamp::now(),
        )
        .await
        .expect("token");
    let (status, body) = app.police.with_token(token.expose()).get(&path).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("scope_missing")), "{body}");
    let (status, body) = app.police.get(&format!("{path}?format=xml")).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("format")), "{body}");
    let (status, _) = app.police.get("/api/v1/subjects/iban/NL00NOPE/export").await;
    assert_eq!(status, 422);
}
