//! Purpose-bound tokens: a token's scopes refuse what it was not issued for (403
//! `scope_missing`, naming the scope), the partner's kind still bounds them, tokens made before
//! scopes keep all of their kind's, and the audit log names the token, whose purpose is kept
//! with it.

use serde_json::json;
use vangnet_core::Timestamp;
use vangnet_core::scope::{Scope, Scopes};
use vangnet_core::token::ApiToken;

use crate::api_tests;
use crate::helpers::{Client, TestApp, report_body};

api_tests! {
    a_token_does_only_what_it_was_issued_for,
}

async fn scoped(app: &TestApp, base: &Client, scopes: &[Scope], purpose: &str) -> (Client, String) {
    let token = ApiToken::generate().expect("randomness");
    let info = app
        .store
        .add_scoped_token(
            &base.partner.id,
            &token.digest(),
            "test",
            Some(Scopes::of(scopes)),
            Some(purpose),
            "test",
            Timestamp::now(),
        )
        .await
        .expect("token");
    (base.with_token(token.expose()), info.id)
}

async fn a_token_does_only_what_it_was_issued_for(app: &TestApp) {
    let (checker, token_id) = scoped(app, &app.bank, &[Scope::Check], "Fraudedesk: controles voor uitbetaling").await;
    let value = "NL91ABNA0417164300";
    app.report(&app.police, report_body("marketplace", "green", &[value])).await;
    let (status, body) = checker.post("/api/v1/checks", &json!({"indicators": [{"value": value}]})).await;
    assert_eq!(status, 200, "{body}");
    for (path, body, scope) in [
        ("/api/v1/reports", report_body("marketplace", "green", &[value]), "report"),
        (
            "/api/v1/payments/score",
            json!({"id": "p-1", "amount": {"value": "10.00", "currency": "EUR"}, "payer": {"iban": "NL02ABNA0123456789"}, "payee": {"iban": value}}),
            "screen",
        ),
        (
            "/api/v1/disputes",
            json!({"kind": "iban", "value": value, "reason": "x"}),
            "disputes",
        ),
    ] {
        let (status, answer) = checker.post(path, &body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (403, Some("scope_missing")),
            "{path}: {answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("`{scope}`")),
            "{answer}"
        );
    }
    // The partner's first token predates scopes: it keeps everything a bank may do.
    let (status, _) = app
        .bank
        .post("/api/v1/reports", &report_body("marketplace", "green", &[value]))
        .await;
    assert_eq!(status, 201);
    // A scope the kind cannot hold is never granted: a telecom token "for screening" does not screen.
    let (telecom, _) = scoped(app, app.telecom(), &[Scope::Check, Scope::Screen], "misconfigured").await;
    let (status, answer) = telecom
        .post("/api/v1/payments/score", &json!({"id": "p-2", "amount": {"value": "1.00", "currency": "EUR"}, "payer": {"iban": "NL02ABNA0123456789"}, "payee": {"iban": value}}))
        .await;
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("forbidden")), "{answer}");
    // The audit log names the token the entry was made with; the token keeps its purpose.
    let (status, _) = checker.get(&format!("/api/v1/indicators/iban/{value}")).await;
    assert_eq!(status, 200);
    let entries = app.store.audit_entries_of(&app.bank.partner.actor(), 100).await.expect("audit");
    let by_token = format!("{}/{token_id}", app.bank.partner.actor());
    assert!(
        entries.iter().any(|e| e.action == "indicator.read" && e.actor == by_token),
        "{entries:?}"
    );
    let all = app.store.audit_entries(0, 10_000).await.expect("audit");
    let created = all
        .iter()
        .find(|e| e.action == "token.create" && e.subject == format!("token:{token_id}"))
        .expect("the token's creation is audited");
    assert!(created.details.contains("Fraudedesk: controles voor uitbetaling") && created.details.contains("\"scopes\":\"check\""));
    let tokens = app.store.tokens(&app.bank.partner.id).await.expect("tokens");
    let token = tokens.iter().find(|t| t.id == token_id).expect("listed");
    assert_eq!(token.purpose.as_deref(), Some("Fraudedesk: controles voor uitbetaling"));
    assert_eq!(token.scopes.map(Scopes::to_text).as_deref(), Some("check"));
}
