//! Integration tests: the real server on a random port, over a fresh SQLite file and a fresh
//! PostgreSQL schema, driven through HTTP as partners would; and the command line.

mod browser;
mod calls;
mod cli;
mod disputes;
mod helpers;
mod limits;
mod mules;
mod networks;
mod payments;
mod pnbf;
mod retention;
mod scopes;
mod streams;
mod subjects;
mod web;
mod web_disputes;

use std::time::Duration;

use helpers::{TestApp, report_body};
use serde_json::{Value, json};

api_tests! {
    health_and_documents,
    authentication,
    report_submission_normalises_and_is_idempotent,
    report_validation_names_the_field,
    bounds_are_enforced,
    checks_follow_tlp,
    checks_answer_in_order_and_tolerate_bad_values,
    retraction_takes_reports_out_of_counts,
    indicator_record_and_review_status,
    report_reads_respect_tlp_and_are_audited,
    index_follows_writes_made_elsewhere,
    review_statuses_ignore_older_feed_events,
    email_addresses_match_whatever_their_case,
    a_url_check_answers_for_its_domain,
    check_hits_are_audited_as_counts_per_window,
    batch_submission,
    garbage_never_causes_a_server_error,
}

async fn health_and_documents(app: &TestApp) {
    let (status, body) = helpers::decode(app.http.get(app.url("/healthz")).send().await.expect("request")).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    let (status, doc) = helpers::decode(app.http.get(app.url("/api/openapi.json")).send().await.expect("request")).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "OpenAPI 3.1");
    for path in [
        "/api/v1/checks",
        "/api/v1/reports",
        "/api/v1/reports/{id}/retract",
        "/api/v1/indicators/{kind}/{value}",
        "/api/public/check",
        "/api/v1/pnbf/cases",
        "/api/v1/pnbf/cases/{id}/events",
        "/api/v1/pnbf/cases/{id}/dossier",
        "/api/v1/pnbf/figures",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    // The probe: the public check declared its query parameters as path parameters, and
    // statuses the server answers were missing (401 on 20 operations, 400, 415, 403, 422).
    let public = doc["paths"]["/api/public/check"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    assert!(public.iter().all(|p| p["in"] == "query"), "{public:?}");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let responses = &op["responses"];
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses.get("401").is_some() && responses.get("429").is_some(), "{method} {path}");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.get(status).is_some(), "{method} {path} documents {status}");
                }
            }
            assert!(responses.get("503").is_some(), "{method} {path}");
        }
    }
    assert_ne!(
        doc["paths"]["/api/v1/reports/{id}/retract"]["post"]["requestBody"]["required"], true,
        "a retraction's body may be left out"
    );
    assert!(doc["x-error-codes"]["invalid_iban"].is_string(), "error codes are listed");
    assert!(doc["x-error-codes"]["transition_not_allowed"].is_string());
    let (status, body) = helpers::decode(app.http.get(app.url("/nowhere")).send().await.expect("request")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, body) = helpers::decode(app.http.delete(app.url("/api/v1/checks")).send().await.expect("request")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (405, Some("method_not_allowed")));

    app.bank.check("NL91ABNA0417164300").await;
    // The probe: /metrics needed no token on the public listener, and showed business volumes
    // and the honeypot's catch. Now: operators' tokens there, no token only on its own listener.
    let (status, body) = helpers::decode(app.http.get(app.url("/metrics")).send().await.expect("request")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("missing_token")));
    assert_eq!(app.bank.get("/metrics").await.0, 403, "a bank does not read the metrics");
    let for_operator = app.operator.text("/metrics").await;
    assert!(for_operator.contains("vangnet_checks_total"), "{for_operator}");
    let metrics_addr = app.metrics_addr.expect("a metrics listener");
    assert_ne!(metrics_addr.port(), app.addr.port());
    let (status, _) = helpers::decode(
        app.http
            .get(format!("http://{metrics_addr}/api/v1/checks"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 404, "the metrics listener serves nothing else");
    let metrics = app
        .http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("vangnet_http_requests_total{method=\"POST\",route=\"/api/v1/checks\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("vangnet_http_request_duration_seconds_bucket{le=\"0.0005\",method=\"POST\",route=\"/api/v1/checks\"}"));
    assert!(metrics.contains("vangnet_checks_total{status=\"not_reported\"} 1"));
    assert!(metrics.contains("vangnet_index_indicators 0"));
    assert!(!metrics.contains("NL91ABNA"), "no indicator values in metrics");
}

async fn authentication(app: &TestApp) {
    let body = json!({"indicators": [{"value": "NL91ABNA0417164300"}]});
    let response = app.http.post(app.url("/api/v1/checks")).json(&body).send().await.expect("request");
    assert_eq!(
        response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"vangnet\"")
    );
    let (status, error) = helpers::decode(response).await;
    assert_eq!((status, error["error"]["code"].as_str()), (401, Some("missing_token")));
    let wrong = app
        .http
        .post(app.url("/api/v1/checks"))
        .bearer_auth("vn_0000000000000000000000000000000000000000000000ff")
        .json(&body);
    let (status, error) = helpers::decode(wrong.send().await.expect("request")).await;
    assert_eq!((status, error["error"]["code"].as_str()), (401, Some("invalid_token")));
    let junk = app
        .http
        .post(app.url("/api/v1/checks"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .json(&body);
    assert_eq!(junk.send().await.expect("request").status().as_u16(), 401);

    // A revoked token stops working (the test server trusts a token for zero seconds).
    let tokens = app.store.tokens(&app.bank.partner.id).await.expect("tokens");
    let (status, _) = app.bank.post("/api/v1/checks", &body).await;
    assert_eq!(status, 200);
    assert!(
        app.store
            .revoke_token(&tokens[0].id, "test", vangnet_core::Timestamp::now())
            .await
            .expect("revoked")
    );
    let (status, error) = app.bank.post("/api/v1/checks", &body).await;
    assert_eq!((status, error["error"]["code"].as_str()), (401, Some("invalid_token")));
}

async fn report_submission_normalises_and_is_idempotent(app: &TestApp) {
    let mut body = json!({
        "external_id": "case-2026-001",
        "fraud_type": "marketplace",
        "channel": "marketplace",
        "occurred_at": "2026-11-01T10:00:00Z",
        "amount": {"value": "250.00", "currency": "EUR"},
        "aangifte": true,
        "victim_age_band": "65-74",
        "tlp": "amber",
        "description": "Paid for a phone that never came.",
        "indicators": [
            {"kind": "iban", "value": "NL91 ABNA 0417 1643 00", "role": "payee"},
            {"kind": "phone", "value": "06-12345678", "role": "seller"},
            {"kind": "url", "value": "https://Shop.Example.com/deal?id=1", "role": "website"}
        ]
    });
    let (status, stored) = app.bank.post("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{stored}");
    assert!(stored["id"].as_str().is_some_and(|id| id.len() == 36));
    let values: Vec<(&str, &str, bool)> = stored["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap_or(""),
                i["value"].as_str().unwrap_or(""),
                i["derived"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        values,
        vec![
            ("iban", "NL91ABNA0417164300", false),
            ("phone", "+31612345678", false),
            ("url", "https://shop.example.com/deal?id=1", false),
            ("domain", "example.com", true),
        ]
    );
    assert_eq!(stored["amount"], json!({"value": "250.00", "currency": "EUR"}));
    assert_eq!(stored["partner"]["name"], "Bank A");
    assert_eq!(stored["occurred_at"], "2026-11-01T10:00:00Z");

    let (status, again) = app.bank.post("/api/v1/reports", &body).await;
    assert_eq!(
        (status, &again["id"]),
        (200, &stored["id"]),
        "the same report again is answered with the stored one"
    );
    body["amount"]["value"] = json!("260.00");
    let (status, conflict) = app.bank.post("/api/v1/reports", &body).await;
    assert_eq!(
        (status, conflict["error"]["code"].as_str(), conflict["error"]["field"].as_str()),
        (409, Some("external_id_conflict"), Some("external_id"))
    );

    let result = app.other_bank.check("nl91abna0417164300").await;
    assert_eq!(
        (result["status"].as_str(), result["reports"].as_u64()),
        (Some("reported"), Some(1)),
        "{result}"
    );
    let (status, error) = app
        .operator
        .post("/api/v1/reports", &report_body("marketplace", "green", &["NL91ABNA0417164300"]))
        .await;
    assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")));
}

async fn report_validation_names_the_field(app: &TestApp) {
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            report_body("marketplace", "amber", &["NL91ABNA0417164300", "NL91ABNA0417164301"]),
            422,
            "invalid_iban",
            "indicators[1].value",
        ),
        (
            json!({"occurred_at": "2026-11-01T10:00:00Z", "indicators": [{"value": "06-12345678"}]}),
            422,
            "missing_field",
            "fraud_type",
        ),
        (
            json!({"fraud_type": "pizza", "occurred_at": "2026-11-01T10:00:00Z", "indicators": [{"value": "06-12345678"}]}),
            422,
            "invalid_fraud_type",
            "fraud_type",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "yesterday", "indicators": [{"value": "06-12345678"}]}),
            422,
            "invalid_timestamp",
            "occurred_at",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2099-01-01T00:00:00Z", "indicators": [{"value": "06-12345678"}]}),
            422,
            "occurred_in_future",
            "occurred_at",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "indicators": []}),
            422,
            "no_indicators",
            "indicators",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "indicators": [{"kind": "fax", "value": "1"}]}),
            422,
            "unknown_indicator_kind",
            "indicators[0].kind",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "indicators": [{"value": "hello there"}]}),
            422,
            "unknown_indicator_kind",
            "indicators[0].value",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "indicators": [{"value": "06-12345678", "role": "villain"}]}),
            422,
            "invalid_role",
            "indicators[0].role",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "tlp": "purple", "indicators": [{"value": "06-12345678"}]}),
            422,
            "invalid_tlp",
            "tlp",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "amount": {"value": "1,50", "currency": "EUR"}, "indicators": [{"value": "06-12345678"}]}),
            422,
            "invalid_amount",
            "amount.value",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "amount": {"value": "1.50", "currency": "XYZ"}, "indicators": [{"value": "06-12345678"}]}),
            422,
            "invalid_amount",
            "amount.currency",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "colour": "red", "indicators": [{"value": "06-12345678"}]}),
            422,
            "unknown_field",
            "colour",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "indicators": [{"value": 612345678}]}),
            422,
            "invalid_request",
            "indicators[0].value",
        ),
        (
            json!({"fraud_type": "other", "occurred_at": "2026-11-01T10:00:00Z", "external_id": "has spaces", "indicators": [{"value": "06-12345678"}]}),
            422,
            "invalid_external_id",
            "external_id",
        ),
    ];
    for (body, status, code, field) in cases {
        let (got, error) = app.bank.post("/api/v1/reports", &body).await;
        assert_eq!(
            (got, error["error"]["code"].as_str(), error["error"]["field"].as_str()),
            (status, Some(code), Some(field)),
            "{body}"
        );
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let result = app.bank.check("NL91ABNA0417164300").await;
    assert_eq!(result["status"], "not_reported", "nothing of a rejected report was stored");
}

async fn bounds_are_enforced(app: &TestApp) {
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"value": "NL91ABNA0417164300"})).collect();
    let (status, error) = app.bank.post("/api/v1/checks", &json!({"indicators": too_many})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str(), error["error"]["field"].as_str()),
        (422, Some("batch_too_large"), Some("indicators"))
    );
    let exactly: Vec<Value> = (0..1000).map(|_| json!({"value": "NL91ABNA0417164300"})).collect();
    let (status, body) = app.bank.post("/api/v1/checks", &json!({"indicators": exactly})).await;
    assert_eq!((status, body["results"].as_array().map(Vec::len)), (200, Some(1000)));

    let huge = "x".repeat(300 * 1024);
    let (status, error) = app.bank.post("/api/v1/reports", &json!({"description": huge})).await;
    assert_eq!((status, error["error"]["code"].as_str()), (413, Some("payload_too_large")));

    let plain = app
        .http
        .post(app.url("/api/v1/checks"))
        .bearer_auth(&app.bank.token)
        .body("{}")
        .header("content-type", "text/plain");
    let (status, error) = helpers::decode(plain.send().await.expect("request")).await;
    assert_eq!((status, error["error"]["code"].as_str()), (415, Some("unsupported_media_type")));
    let broken = app
        .http
        .post(app.url("/api/v1/checks"))
        .bearer_auth(&app.bank.token)
        .body("{\"indicators\": [")
        .header("content-type", "application/json");
    let (status, error) = helpers::decode(broken.send().await.expect("request")).await;
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("invalid_json")));
    let (status, error) = app.bank.get("/api/v1/indicators/iban/NL91ABNA0417164300?limit=0").await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_parameter")));
}

async fn checks_follow_tlp(app: &TestApp) {
    let iban = "NL02ABNA0123456789";
    app.report(&app.police, report_body("marketplace", "green", &[iban])).await;
    app.report(&app.police, report_body("marketplace", "amber", &[iban])).await;
    app.report(&app.police, report_body("bankhelpdesk", "amber+strict", &[iban])).await;
    app.report(&app.police, report_body("bankhelpdesk", "red", &[iban])).await;
    app.report(&app.bank, report_body("bankhelpdesk", "red", &[iban])).await;

    let seen = |r: &Value| {
        (
            r["status"].as_str().map(str::to_owned),
            r["reports"].as_u64(),
            r["reporting_partners"].as_u64(),
        )
    };
    assert_eq!(
        seen(&app.police.check(iban).await),
        (Some("reported".into()), Some(4), Some(1)),
        "police: own four, not the bank's RED"
    );
    assert_eq!(
        seen(&app.bank.check(iban).await),
        (Some("reported".into()), Some(3), Some(2)),
        "bank: GREEN, AMBER and its own RED"
    );
    assert_eq!(
        seen(&app.other_bank.check(iban).await),
        (Some("reported".into()), Some(2), Some(1)),
        "another bank: GREEN and AMBER"
    );
    assert_eq!(
        seen(&app.operator.check(iban).await),
        (Some("reported".into()), Some(1), Some(1)),
        "the operator: GREEN only"
    );
    let result = app.other_bank.check(iban).await;
    assert_eq!(
        result["fraud_types"],
        json!({"marketplace": 2}),
        "fraud types of hidden reports stay hidden"
    );
    let reasons = result["reasons"].as_array().expect("reasons");
    assert!(
        reasons.iter().any(|r| r
            .as_str()
            .is_some_and(|r| r.contains("2 reports of marketplace fraud by 1 partner"))),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains("halved every 180 days"))),
        "the score's inputs are shown"
    );
    assert!(result["score"].as_f64().is_some_and(|s| s > 0.5 && s < 1.0));
}

async fn checks_answer_in_order_and_tolerate_bad_values(app: &TestApp) {
    app.report(
        &app.police,
        report_body("phishing", "green", &["https://login.rabo-veilig.com/x", "+31 6 87654321"]),
    )
    .await;
    let body = json!({"indicators": [
        {"kind": "domain", "value": "WWW.Rabo-Veilig.COM"},
        {"value": "0031 6 8765 4321"},
        {"kind": "iban", "value": "NL91ABNA0417164301"},
        {"value": "jan@example.com"},
        {"kind": "handle", "value": "myspace:tom"},
    ]});
    let (status, response) = app.bank.post("/api/v1/checks", &body).await;
    assert_eq!(status, 200);
    let results = response["results"].as_array().expect("results");
    let summary: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("-"),
                r["value"].as_str().unwrap_or(""),
                r["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("domain", "rabo-veilig.com", "reported"),
            ("phone", "+31687654321", "reported"),
            ("iban", "NL91ABNA0417164301", "invalid"),
            ("email", "jan@example.com", "not_reported"),
            ("handle", "myspace:tom", "invalid"),
        ]
    );
    assert_eq!(results[2]["error"]["code"], "invalid_iban");
    assert_eq!(results[2]["error"]["field"], "indicators[2].value");
    assert_eq!(
        results[3],
        json!({"kind": "email", "value": "jan@example.com", "status": "not_reported", "reports": 0})
    );
}

async fn retraction_takes_reports_out_of_counts(app: &TestApp) {
    let iban = "NL44RABO0123456789";
    let first = app.report(&app.bank, report_body("marketplace", "green", &[iban])).await;
    let second = app.report(&app.other_bank, report_body("marketplace", "green", &[iban])).await;
    assert_eq!(app.police.check(iban).await["reports"], 2);
    let path = |r: &Value| format!("/api/v1/reports/{}/retract", r["id"].as_str().unwrap_or(""));
    let (status, error) = app.other_bank.post(&path(&first), &json!({})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "only the reporter or the police"
    );
    let (status, retracted) = app.bank.post(&path(&first), &json!({"reason": "wrong account number"})).await;
    assert_eq!(status, 200, "{retracted}");
    assert_eq!(retracted["retraction"]["reason"], "wrong account number");
    assert_eq!(app.police.check(iban).await["reports"], 1);
    let (status, error) = app.bank.post(&path(&first), &json!({})).await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("already_retracted")));
    let bare = app
        .http
        .post(app.bank.url(&path(&second)))
        .bearer_auth(&app.police.token)
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status().as_u16(), 200, "the police may retract any report, without a body");
    assert_eq!(app.bank.check(iban).await["status"], "not_reported");
    let (status, _) = app
        .bank
        .post("/api/v1/reports/00000000-0000-0000-0000-000000000000/retract", &json!({}))
        .await;
    assert_eq!(status, 404);
}

async fn indicator_record_and_review_status(app: &TestApp) {
    let url_value = "https://xn--pple-43d.com/login";
    app.report(
        &app.police,
        report_body("phishing", "green", &["NL91 ABNA 0417 1643 00", url_value]),
    )
    .await;
    app.report(&app.bank, report_body("marketplace", "red", &["NL91ABNA0417164300"]))
        .await;
    let (status, record) = app.other_bank.get("/api/v1/indicators/iban/NL91%20ABNA%200417%201643%2000").await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(
        (record["value"].as_str(), record["status"].as_str(), record["reports"].as_u64()),
        (Some("NL91ABNA0417164300"), Some("reported"), Some(1))
    );
    assert_eq!(record["facts"]["bank_code"], "ABNA");
    assert_eq!(record["facts"]["bank_name"], "ABN AMRO");
    assert_eq!(
        record["report_details"].as_array().map(Vec::len),
        Some(1),
        "the RED report of Bank A is not listed"
    );
    assert_eq!(record["report_details"][0]["partner"]["name"], "Politie");
    let (status, domain) = app.other_bank.get("/api/v1/indicators/domain/xn--pple-43d.com").await;
    assert_eq!(status, 200);
    assert_eq!(domain["facts"]["mixed_script"], true, "a homoglyph host is flagged");
    assert_eq!(domain["facts"]["unicode_host"], "аpple.com");

    let audit = app
        .store
        .audit_entries_of(&app.other_bank.partner.actor(), 10)
        .await
        .expect("audit");
    assert_eq!(
        audit.iter().filter(|e| e.action == "indicator.read").count(),
        2,
        "every record read is audited"
    );
    assert!(
        audit.iter().all(|e| !e.subject.contains("NL91") && !e.details.contains("NL91")),
        "the audit log holds no indicator values"
    );

    let status_path = "/api/v1/indicators/iban/NL91ABNA0417164300/status";
    let (status, error) = app.bank.put(status_path, &json!({"status": "cleared"})).await;
    assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = app
        .police
        .put(status_path, &json!({"status": "disputed", "reason": "the account holder objects"}))
        .await;
    assert_eq!((status, body["indicator_status"].as_str()), (200, Some("disputed")));
    let result = app.other_bank.check("NL91ABNA0417164300").await;
    assert_eq!(result["status"], "disputed");
    assert!(
        result["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains("disputes")))
    );
    let (_, record) = app.other_bank.get("/api/v1/indicators/iban/NL91ABNA0417164300").await;
    assert_eq!(
        (record["indicator_status"].as_str(), record["status_reason"].as_str()),
        (Some("disputed"), Some("the account holder objects"))
    );
    let (status, _) = app.police.put(status_path, &json!({"status": "cleared"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.other_bank.check("NL91ABNA0417164300").await,
        json!({"kind": "iban", "value": "NL91ABNA0417164300", "status": "not_reported", "reports": 0})
    );
    let (status, error) = app.police.put(status_path, &json!({"status": "expired"})).await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_status")));
}

async fn report_reads_respect_tlp_and_are_audited(app: &TestApp) {
    let red = app
        .report(&app.bank, report_body("marketplace", "red", &["NL91ABNA0417164300"]))
        .await;
    let path = format!("/api/v1/reports/{}", red["id"].as_str().unwrap_or(""));
    let (status, own) = app.bank.get(&path).await;
    assert_eq!((status, &own["id"]), (200, &red["id"]));
    let (status, error) = app.other_bank.get(&path).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("not_found")),
        "RED is for the reporter only"
    );
    let (status, _) = app.police.get(&path).await;
    assert_eq!(status, 404);
    let audit = app.store.audit_entries_of(&app.bank.partner.actor(), 10).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "report.read" && e.subject == format!("report:{}", red["id"].as_str().unwrap_or("")))
    );
    assert!(audit.iter().any(|e| e.action == "report.create"));
}

async fn index_follows_writes_made_elsewhere(app: &TestApp) {
    use vangnet_core::report::{FraudType, IndicatorRole};
    let now = vangnet_core::Timestamp::now();
    let report = helpers::report_now(FraudType::Webshop, &[("fake-sneakers-outlet.shop", IndicatorRole::Website)]);
    // Written straight to the store, as another node or `vangnet import` would.
    app.store
        .insert_reports(&app.police.partner, &[report], "test", now)
        .await
        .expect("stored");
    let mut status = String::new();
    for _ in 0..100 {
        status = app.bank.check("fake-sneakers-outlet.shop").await["status"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if status == "reported" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, "reported",
        "the change feed brought the report into the index within two seconds"
    );
}

/// The probe: after disputed → cleared, the check answered `disputed` again when the feed
/// follower re-applied the older status event the server had applied to its own index at once.
/// Fed here deterministically: in order, reversed and twice, from this server and "another".
async fn review_statuses_ignore_older_feed_events(app: &TestApp) {
    let value = "fout-gemeld-webwinkel.nl";
    app.report(&app.police, report_body("webshop", "green", &[value])).await;
    let head = app.store.feed_head().await.expect("head");
    let status_path = format!("/api/v1/indicators/domain/{value}/status");
    for status in ["disputed", "cleared"] {
        let (code, _) = app.police.put(&status_path, &json!({"status": status})).await;
        assert_eq!(code, 200);
    }
    assert_eq!(app.bank.check(value).await["status"], "not_reported");
    let changes = app.store.changes_since(head, 100).await.expect("feed");
    assert_eq!(changes.len(), 2, "{changes:?}");
    let state = app.state.as_ref().expect("a running server");
    let replay = |order: &[usize]| {
        let mut index = state.index_mut();
        for &i in order {
            vangnet_services::feed::apply(&mut index, &changes[i]);
        }
    };
    for order in [&[0usize, 1][..], &[1, 0], &[0, 0, 1, 1, 0], &[0]] {
        replay(order);
        let check = app.bank.check(value).await;
        assert_eq!(check["status"], "not_reported", "after feeding {order:?}: {check}");
        assert_eq!(public(app, value).await["status"], "not_reported");
    }
    // A newer status written by another node (straight to the store) does apply.
    let position = app
        .store
        .set_indicator_status(
            vangnet_core::IndicatorKind::Domain,
            value,
            vangnet_core::index::IndicatorStatus::Active,
            Some("reopened"),
            "test",
            "indicator:test",
            vangnet_core::Timestamp::now(),
        )
        .await
        .expect("status");
    let newer = app.store.changes_since(position - 1, 10).await.expect("feed");
    {
        let mut index = state.index_mut();
        vangnet_services::feed::apply(&mut index, &newer[0]);
        for change in &changes {
            vangnet_services::feed::apply(&mut index, change);
        }
    }
    assert_eq!(app.bank.check(value).await["status"], "reported", "the newest status wins");
}

async fn public(app: &TestApp, value: &str) -> Value {
    let url = format!("/api/public/check?value={value}");
    helpers::decode(app.http.get(app.url(&url)).send().await.expect("request")).await.1
}

/// The probe: `Fraud2@Outlook.COM` and `fraud2@outlook.com` were two indicators, and an e-mail
/// domain with a Cyrillic letter was not flagged.
async fn email_addresses_match_whatever_their_case(app: &TestApp) {
    let stored = app
        .report(&app.police, report_body("phishing", "green", &["Fraud2@Outlook.COM"]))
        .await;
    assert_eq!(stored["indicators"][0]["value"], "fraud2@outlook.com");
    for asked in ["fraud2@outlook.com", "FRAUD2@OUTLOOK.COM", "Fraud2@outlook.com"] {
        assert_eq!(app.bank.check(asked).await["status"], "reported", "{asked}");
    }
    app.report(&app.police, report_body("phishing", "green", &["helpdesk@gm\u{0430}il.com"]))
        .await;
    let (status, record) = app.bank.get("/api/v1/indicators/email/helpdesk%40xn--gmil-63d.com").await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["facts"]["mixed_script"], true, "{record}");
    assert_eq!(record["facts"]["unicode_host"], "gm\u{0430}il.com");
}

/// Migration 9 lower-cases the e-mail addresses stored before and merges the records that
/// then name one address. The old data is made here by writing mixed case back by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_migration_merges_spellings_of_one_address() {
    use vangnet_core::index::IndicatorIndex;
    use vangnet_core::report::{AgeBand, FraudType, IndicatorRole, NewReport, ReportDraft, Tlp};
    let draft = |value: &str| {
        let now = vangnet_core::Timestamp::now();
        let draft = ReportDraft {
            external_id: None,
            fraud_type: FraudType::Phishing,
            channel: None,
            occurred_at: now,
            amount: None,
            aangifte: false,
            victim_age_band: AgeBand::Unknown,
            tlp: Tlp::Green,
            description: None,
            indicators: vec![(vangnet_core::Indicator::parse(None, value).expect("valid"), IndicatorRole::Other)],
        };
        NewReport::new(draft, now).expect("valid")
    };
    let mut dbs = vec![helpers::Db::sqlite().await];
    dbs.extend(helpers::Db::postgres().await);
    for db in &dbs {
        let (police, _) = db
            .store
            .create_partner(
                "Politie",
                vangnet_core::PartnerKind::Police,
                &vangnet_core::token::ApiToken::generate().expect("random").digest(),
                "",
                "test",
                vangnet_core::Timestamp::now(),
            )
            .await
            .expect("partner");
        db.store
            .insert_reports(
                &police,
                &[draft("fraud2@outlook.com"), draft("other@outlook.com")],
                "test",
                vangnet_core::Timestamp::now(),
            )
            .await
            .expect("stored");
        // As a version before 9 stored the first: in the case it was written, its own record.
        let old = [
            "UPDATE report_indicators SET value = 'Fraud2@Outlook.com' WHERE value = 'fraud2@outlook.com'",
            "INSERT INTO indicators (kind, value, reports, reports_phishing, first_seen, last_seen) VALUES ('email', 'FRAUD2@outlook.com', 3, 3, 1000, 2000)",
        ];
        let migration_sqlite = include_str!("../../crates/store/migrations/sqlite/0009_email_lower_case.sql");
        let migration_pg = include_str!("../../crates/store/migrations/postgres/0009_email_lower_case.sql");
        match db.pg_pool() {
            None => {
                let conn = rusqlite::Connection::open(&db.url).expect("open");
                for sql in old {
                    conn.execute(sql, []).expect("old data");
                }
                conn.execute_batch(migration_sqlite).expect("migration");
            }
            Some(pool) => {
                for sql in old {
                    sqlx::query(sql).execute(pool).await.expect("old data");
                }
                sqlx::raw_sql(migration_pg).execute(pool).await.expect("migration");
            }
        }
        let record = db
            .store
            .indicator(vangnet_core::IndicatorKind::Email, "fraud2@outlook.com")
            .await
            .expect("query")
            .expect("one record");
        assert_eq!(
            (record.reports, record.first_seen.map(|t| t.millis())),
            (4, Some(1000)),
            "{record:?}"
        );
        assert!(
            db.store
                .indicator(vangnet_core::IndicatorKind::Email, "FRAUD2@outlook.com")
                .await
                .expect("query")
                .is_none()
        );
        let (index, _) = db.store.load_index(IndicatorIndex::new()).await.expect("loaded");
        let key = index.key(vangnet_core::IndicatorKind::Email, "fraud2@outlook.com");
        assert_eq!(
            index
                .visible_reports(key, &police.viewer(), vangnet_core::Timestamp::now(), &Default::default())
                .len(),
            1
        );
        db.drop().await;
    }
}

/// The probe: after a report of `https://www.evilshop6.nl/`, a check of
/// `https://evilshop6.nl/other` answered `not_reported` while `evilshop6.nl` was `reported`.
async fn a_url_check_answers_for_its_domain(app: &TestApp) {
    for partner in [&app.police, &app.bank] {
        app.report(partner, report_body("webshop", "green", &["https://www.evilshop6.nl/"]))
            .await;
    }
    let result = app.other_bank.check("https://evilshop6.nl/other").await;
    assert_eq!(
        (
            result["status"].as_str(),
            result["value"].as_str(),
            result["answered_for_domain"].as_str()
        ),
        (Some("reported"), Some("https://evilshop6.nl/other"), Some("evilshop6.nl")),
        "{result}"
    );
    assert!(
        result["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("its domain evilshop6.nl is")),
        "{result}"
    );
    let own = app.other_bank.check("https://www.evilshop6.nl/").await;
    assert!(own["answered_for_domain"].is_null(), "{own}");
    let public = public(app, "https://evilshop6.nl/other").await;
    assert_eq!(
        (public["status"].as_str(), public["answered_for_domain"].as_str()),
        (Some("reported"), Some("evilshop6.nl"))
    );
    let page = app
        .http
        .get(app.url("/controleren?waarde=https%3A%2F%2Fevilshop6.nl%2Fother"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("page");
    assert!(page.contains("de website evilshop6.nl wel"), "said plainly on the page");
    // Shared platforms are not answered for: anyone can publish a form there.
    app.report(
        &app.police,
        report_body("phishing", "green", &["https://docs.google.com/forms/d/e/evil/viewform"]),
    )
    .await;
    let other_form = app.other_bank.check("https://docs.google.com/forms/d/e/fine/viewform").await;
    assert_eq!(other_form["status"], "not_reported", "{other_form}");
}

/// The probe: every check with a hit wrote one audit entry of ~330 bytes, so a load run grew
/// the database by a gigabyte. Hits are now counted per partner, indicator and window.
async fn check_hits_are_audited_as_counts_per_window(app: &TestApp) {
    let value = "NL91ABNA0417164300";
    app.report(&app.police, report_body("marketplace", "green", &[value])).await;
    let before = app.store.audit_head().await.expect("head").map_or(0, |h| h.0);
    let body = json!({"indicators": vec![json!({"value": value}); 500]});
    let started = std::time::Instant::now();
    for _ in 0..4 {
        assert_eq!(app.bank.post("/api/v1/checks", &body).await.0, 200);
    }
    // The test server's windows last 200 ms (helpers.rs): a slow machine may spread the four
    // requests over more than two of them, never over more than this.
    let windows = started.elapsed().as_millis() as usize / 200 + 2;
    app.other_bank.check(value).await;
    let mut hits = Vec::new();
    for _ in 0..100 {
        hits = app.store.audit_entries(before, 1_000).await.expect("audit");
        hits.retain(|e| e.action == "check.hits");
        if hits
            .iter()
            .filter(|e| vangnet_core::audit::organisation_of(&e.actor) == app.other_bank.partner.actor())
            .count()
            == 1
            && hits
                .iter()
                .filter(|e| vangnet_core::audit::organisation_of(&e.actor) == app.bank.partner.actor())
                .map(count)
                .sum::<u64>()
                == 2_000
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bank: Vec<_> = hits
        .iter()
        .filter(|e| vangnet_core::audit::organisation_of(&e.actor) == app.bank.partner.actor())
        .collect();
    assert_eq!(bank.iter().map(|e| count(e)).sum::<u64>(), 2_000, "{hits:?}");
    assert!(
        bank.len() <= windows,
        "2,000 hits in at most the {windows} windows the requests spanned, not 2,000 entries: {}",
        bank.len()
    );
    let details: Value = serde_json::from_str(&bank[0].details).expect("JSON");
    assert_eq!(details["via"], "check");
    assert!(details["first"].is_string() && details["last"].is_string() && details["window_secs"].is_number());
    assert!(bank.iter().all(|e| !e.details.contains(value) && !e.subject.contains(value)));
    assert_eq!(
        hits.iter()
            .filter(|e| vangnet_core::audit::organisation_of(&e.actor) == app.other_bank.partner.actor())
            .count(),
        1,
        "per partner"
    );
    assert!(
        vangnet_store::verify_audit(app.store.as_ref(), None, |_| {})
            .await
            .expect("query")
            .is_ok(),
        "the counted entries are chained like every other"
    );
}

fn count(entry: &vangnet_core::audit::AuditEntry) -> u64 {
    serde_json::from_str::<Value>(&entry.details)
        .ok()
        .and_then(|d| d["count"].as_u64())
        .unwrap_or(0)
}

async fn batch_submission(app: &TestApp) {
    let mut good = report_body("webshop", "green", &["nep-webwinkel.nl"]);
    good["external_id"] = json!("b-1");
    let bad = report_body("webshop", "green", &["NL91ABNA0417164301"]);
    let body = json!({"reports": [good.clone(), bad, good, {"fraud_type": 3}]});
    let (status, response) = app.bank.post("/api/v1/reports/batch", &body).await;
    assert_eq!(status, 200, "{response}");
    let results = response["results"].as_array().expect("results");
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap_or("")).collect();
    assert_eq!(statuses, vec!["created", "invalid", "existing", "invalid"]);
    assert_eq!(results[1]["error"]["field"], "reports[1].indicators[0].value");
    assert_eq!(results[3]["error"]["field"], "reports[3].fraud_type");
    let too_many: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    let (status, _) = app.bank.post("/api/v1/reports/batch", &json!({"reports": too_many})).await;
    assert_eq!(status, 422);
}

async fn garbage_never_causes_a_server_error(app: &TestApp) {
    let bodies = [
        "null",
        "[]",
        "\"text\"",
        "{\"indicators\": null}",
        "{\"indicators\": [null]}",
        "{\"indicators\": [{\"value\": \"\\u0000\"}]}",
        "{\"indicators\": [{\"value\": \"\u{202e}moc.elgoog\"}]}",
        "{\"fraud_type\": {}, \"occurred_at\": [], \"indicators\": {}}",
        "{\"fraud_type\": \"other\", \"occurred_at\": \"2026-11-01T10:00:00Z\", \"indicators\": [{\"value\": \"https://[::1\"}]}",
        "{\"fraud_type\": \"other\", \"occurred_at\": \"9999-12-31T23:59:59Z\", \"indicators\": [{\"value\": \"06-12345678\"}]}",
        "{\"fraud_type\": \"other\", \"occurred_at\": \"2026-11-01T10:00:00Z\", \"description\": \"a\\u0000b\", \"indicators\": [{\"value\": \"06-12345678\"}]}",
        "{\"fraud_type\": \"other\", \"occurred_at\": \"2026-11-01T10:00:00Z\", \"external_id\": \"x\\u0000\", \"indicators\": [{\"value\": \"06-12345678\"}]}",
        "{\"fraud_type\": \"other\", \"occurred_at\": \"2026-11-01T10:00:00Z\", \"amount\": {\"value\": \"99999999999999999999999\", \"currency\": \"EUR\"}, \"indicators\": [{\"value\": \"06-12345678\"}]}",
    ];
    for path in ["/api/v1/checks", "/api/v1/reports", "/api/v1/reports/batch"] {
        for body in bodies {
            let request = app
                .http
                .post(app.url(path))
                .bearer_auth(&app.bank.token)
                .header("content-type", "application/json")
                .body(body);
            let (status, error) = helpers::decode(request.send().await.expect("request")).await;
            assert!((400..500).contains(&status) || status == 200, "{path} {body}: {status} {error}");
            if status != 200 {
                assert!(error["error"]["code"].is_string(), "{path} {body}: {error}");
            }
        }
    }
    for path in [
        "/api/v1/indicators/fax/123",
        "/api/v1/indicators/iban/%FF%FE",
        "/api/v1/indicators/url/javascript:alert(1)",
        "/api/v1/reports/%00",
    ] {
        let (status, error) = app.bank.get(path).await;
        assert!((400..500).contains(&status), "{path}: {status} {error}");
    }
}
