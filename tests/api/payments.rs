//! Payment screening over HTTP: decisions and their reasons, idempotency by payment id,
//! validation, rights, persistence across a restart, and the rules file's hot reload.

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{Db, TestApp, report_body, test_settings};

api_tests! {
    a_payment_to_a_reported_account_is_blocked_and_stored,
    payment_validation_and_rights,
    behaviour_rules_use_the_payers_history,
    iso20022_messages_get_one_decision_per_transaction,
    oversized_and_unreadable_bodies_get_json_errors,
}

fn payment(id: &str, payer: &str, payee: &str, euros: &str) -> Value {
    json!({
        "id": id,
        "payer": {"iban": payer},
        "payee": {"iban": payee, "name": "J. Jansen"},
        "amount": {"value": euros, "currency": "EUR"},
        "instant": false,
        "initiated_at": "2026-11-20T10:00:00Z",
    })
}

fn codes(decision: &Value) -> Vec<&str> {
    decision["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect()
}

const PAYER: &str = "NL02ABNA0123456789";
const MULE: &str = "NL91ABNA0417164300";

async fn a_payment_to_a_reported_account_is_blocked_and_stored(app: &TestApp) {
    for _ in 0..3 {
        app.report(&app.police, report_body("marketplace", "amber", &[MULE])).await;
    }
    let (status, decision) = app
        .bank
        .post("/api/v1/payments/score", &payment("e2e-1", PAYER, MULE, "250.00"))
        .await;
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "block", "{decision}");
    assert_eq!(codes(&decision)[0], "payee_reported");
    assert!(decision["rules_version"].as_str().is_some_and(|v| v.starts_with("builtin-1+")));
    assert!(decision["score"].as_f64().is_some_and(|s| s > 0.85));

    let (status, again) = app
        .bank
        .post("/api/v1/payments/score", &payment("e2e-1", PAYER, MULE, "250.00"))
        .await;
    assert_eq!(
        (status, &again),
        (200, &decision),
        "the same payment again gets the stored decision"
    );
    let (status, conflict) = app
        .bank
        .post("/api/v1/payments/score", &payment("e2e-1", PAYER, MULE, "999.00"))
        .await;
    assert_eq!((status, conflict["error"]["code"].as_str()), (409, Some("payment_id_conflict")));
    let (status, stored) = app.bank.get("/api/v1/payments/e2e-1").await;
    assert_eq!((status, &stored), (200, &decision));
    let (status, _) = app.other_bank.get("/api/v1/payments/e2e-1").await;
    assert_eq!(status, 404, "another bank does not see this bank's decisions");
    let (status, other) = app
        .other_bank
        .post("/api/v1/payments/score", &payment("e2e-1", PAYER, MULE, "5.00"))
        .await;
    assert_eq!(status, 200, "payment ids are per partner: {other}");

    let mut disputed = payment("e2e-2", PAYER, MULE, "250.00");
    let (status, _) = app
        .police
        .put(
            &format!("/api/v1/indicators/iban/{MULE}/status"),
            &json!({"status": "disputed", "reason": "holder objects"}),
        )
        .await;
    assert_eq!(status, 200);
    disputed["initiated_at"] = json!("2026-11-20T11:00:00Z");
    let (_, softer) = app.bank.post("/api/v1/payments/score", &disputed).await;
    assert!(codes(&softer).contains(&"payee_reported_disputed"), "{softer}");
    assert_ne!(softer["decision"], "block");
}

async fn payment_validation_and_rights(app: &TestApp) {
    let (status, body) = app
        .police
        .post("/api/v1/payments/score", &payment("p-1", PAYER, MULE, "10.00"))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    let cases = [
        (payment("p-2", "NL02ABNA0123456780", MULE, "10.00"), "invalid_iban", "payer.iban"),
        (payment("p-3", PAYER, "NL91 XXXX", "10.00"), "invalid_iban", "payee.iban"),
        (payment("", PAYER, MULE, "10.00"), "invalid_payment_id", "id"),
        (payment("a/b", PAYER, MULE, "10.00"), "invalid_payment_id", "id"),
        (payment("p-4", PAYER, MULE, "-1"), "invalid_amount", "amount.value"),
        (
            {
                let mut p = payment("p-5", PAYER, MULE, "10.00");
                p["amount"]["currency"] = json!("USD");
                p
            },
            "unsupported_currency",
            "amount.currency",
        ),
        (
            {
                let mut p = payment("p-6", PAYER, MULE, "10.00");
                p["payee"]["verification"] = json!("maybe");
                p
            },
            "invalid_parameter",
            "payee.verification",
        ),
        (
            {
                let mut p = payment("p-7", PAYER, MULE, "10.00");
                p["initiated_at"] = json!("yesterday");
                p
            },
            "invalid_timestamp",
            "initiated_at",
        ),
        (
            {
                let mut p = payment("p-8", PAYER, MULE, "10.00");
                p["surprise"] = json!(1);
                p
            },
            "unknown_field",
            "surprise",
        ),
    ];
    for (body, code, field) in cases {
        let (status, error) = app.bank.post("/api/v1/payments/score", &body).await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error["error"]["code"], code, "{body}");
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    let (status, _) = app.bank.get("/api/v1/payments/p-2").await;
    assert_eq!(status, 404, "refused payments are not stored");
}

async fn behaviour_rules_use_the_payers_history(app: &TestApp) {
    let shop = "NL20INGB0001234567";
    let (_, first) = app.bank.post("/api/v1/payments/score", &payment("h-1", PAYER, shop, "40.00")).await;
    assert_eq!(codes(&first), vec!["first_payment_to_payee"]);
    assert_eq!(first["decision"], "allow");
    for (i, amount) in ["45.00", "50.00", "55.00", "60.00", "52.00"].into_iter().enumerate() {
        let (status, d) = app
            .bank
            .post("/api/v1/payments/score", &payment(&format!("h-{}", i + 2), PAYER, shop, amount))
            .await;
        assert_eq!(status, 200);
        assert!(codes(&d).is_empty(), "a known payee and a usual amount: {d}");
    }
    let mut big = payment("h-big", PAYER, shop, "4800.00");
    big["payee"]["verification"] = json!("no_match");
    let (_, d) = app.bank.post("/api/v1/payments/score", &big).await;
    assert_eq!(codes(&d), vec!["payee_name_mismatch", "unusual_amount"], "{d}");
    assert_eq!(d["decision"], "hold");

    let mule = "NL39RABO0300065264";
    let payers = [
        "NL69INGB0123456789",
        "NL44RABO0123456789",
        "NL13TEST0123456789",
        "NL18ABNA0484869868",
        "NL96INGB0671284367",
    ];
    let mut last = Value::Null;
    for (i, payer) in payers.iter().enumerate() {
        let (status, d) = app
            .bank
            .post("/api/v1/payments/score", &payment(&format!("m-{i}"), payer, mule, "300.00"))
            .await;
        assert_eq!(status, 200, "{d}");
        last = d;
    }
    assert!(
        codes(&last).contains(&"payee_mule_fan_in"),
        "five payers into one account in a day: {last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screening_state_survives_a_restart_and_rules_reload() {
    let db = Db::sqlite().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rules_path = dir.path().join("payments.toml");
    let builtin = include_str!("../../rules/payments.toml");
    std::fs::write(&rules_path, builtin).expect("write rules");
    let mut settings = test_settings();
    settings.services.screening.rules_file = Some(rules_path.clone());
    settings.services.screening.rules_reload = std::time::Duration::from_millis(100);
    let app = TestApp::spawn_with(&db, settings.clone()).await;
    let shop = "NL20INGB0001234567";
    let (_, first) = app.bank.post("/api/v1/payments/score", &payment("r-1", PAYER, shop, "40.00")).await;
    assert_eq!(codes(&first), vec!["first_payment_to_payee"]);

    let app = app.restart(settings).await;
    let (_, second) = app.bank.post("/api/v1/payments/score", &payment("r-2", PAYER, shop, "40.00")).await;
    assert!(codes(&second).is_empty(), "the payer's history survived the restart: {second}");
    let (status, stored) = app.bank.get("/api/v1/payments/r-1").await;
    assert_eq!((status, stored), (200, first));

    std::fs::write(
        &rules_path,
        builtin
            .replace("version = \"builtin-1\"", "version = \"strict-2\"")
            .replace("[first_payment]\nweight = 0.10", "[first_payment]\nweight = 0.40"),
    )
    .expect("write rules");
    let mut reloaded = Value::Null;
    for i in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (_, d) = app
            .bank
            .post(
                "/api/v1/payments/score",
                &payment(&format!("r-new-{i}"), PAYER, "NL44RABO0123456789", "40.00"),
            )
            .await;
        if d["rules_version"].as_str().is_some_and(|v| v.starts_with("strict-2+")) {
            reloaded = d;
            break;
        }
    }
    assert_eq!(reloaded["decision"], "warn", "the reloaded rules decide: {reloaded}");
    std::fs::write(&rules_path, "version = \"broken\"").expect("write rules");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (_, d) = app
        .bank
        .post(
            "/api/v1/payments/score",
            &payment("r-after-broken", PAYER, "NL13TEST0123456789", "40.00"),
        )
        .await;
    assert!(
        d["rules_version"].as_str().is_some_and(|v| v.starts_with("strict-2+")),
        "a broken file changes nothing: {d}"
    );
    app.stop().await;
}

fn pacs_tx(e2e: Option<&str>, creditor: &str, amount: &str) -> String {
    let id = e2e.map(|e| format!("<EndToEndId>{e}</EndToEndId>")).unwrap_or_default();
    format!(
        "<CdtTrfTxInf><PmtId>{id}</PmtId><PmtTpInf><LclInstrm><Cd>INST</Cd></LclInstrm></PmtTpInf>\
         <IntrBkSttlmAmt Ccy=\"EUR\">{amount}</IntrBkSttlmAmt><Dbtr><Nm>Oma</Nm></Dbtr>\
         <DbtrAcct><Id><IBAN>{PAYER}</IBAN></Id></DbtrAcct><Cdtr><Nm>X</Nm></Cdtr>\
         <CdtrAcct><Id><IBAN>{creditor}</IBAN></Id></CdtrAcct></CdtTrfTxInf>"
    )
}

async fn post_xml(app: &TestApp, content_type: &str, body: String) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/api/v1/payments/score"))
        .bearer_auth(&app.bank.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    crate::helpers::decode(response).await
}

async fn iso20022_messages_get_one_decision_per_transaction(app: &TestApp) {
    for _ in 0..3 {
        app.report(&app.police, report_body("marketplace", "green", &[MULE])).await;
    }
    let document = |ns: &str, txs: &[String]| {
        format!(
            "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:{ns}\"><FIToFICstmrCdtTrf>\
             <GrpHdr><MsgId>M-1</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm><NbOfTxs>{}</NbOfTxs></GrpHdr>{}</FIToFICstmrCdtTrf></Document>",
            txs.len(),
            txs.concat()
        )
    };
    let txs = [
        pacs_tx(Some("X-1"), MULE, "250.00"),
        pacs_tx(None, "NL20INGB0001234567", "10.00"),
        pacs_tx(Some("X-3"), "NL20INGB0001234568", "10.00"),
        pacs_tx(Some("X-4"), "NL20INGB0001234567", "12.50"),
    ];
    let (status, answer) = post_xml(app, "application/xml", document("pacs.008.001.08", &txs)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["message_type"], "pacs.008.001.08");
    assert_eq!(answer["message_id"], "M-1");
    let d = answer["decisions"].as_array().expect("decisions");
    assert_eq!(d.len(), 4, "one entry per transaction: {answer}");
    assert_eq!((d[0]["id"].as_str(), d[0]["decision"].as_str()), (Some("X-1"), Some("block")));
    assert_eq!(
        (d[1]["index"].as_u64(), d[1]["error"]["code"].as_str()),
        (Some(1), Some("missing_element"))
    );
    assert_eq!(d[1]["error"]["field"], "CdtTrfTxInf[1]/PmtId/EndToEndId");
    assert_eq!(
        (d[2]["id"].as_str(), d[2]["error"]["code"].as_str()),
        (Some("X-3"), Some("invalid_iban"))
    );
    assert_eq!(d[2]["error"]["field"], "CdtTrfTxInf[2].payee.iban");
    assert_eq!(d[3]["decision"], "allow", "{}", d[3]);
    let (status, stored) = app.bank.get("/api/v1/payments/X-1").await;
    assert_eq!((status, &stored), (200, &d[0]), "decisions from messages are stored like any other");

    let pain = format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn><GrpHdr><MsgId>P</MsgId>\
         <CreDtTm>2026-11-20T10:00:00+01:00</CreDtTm></GrpHdr><PmtInf><PmtInfId>B</PmtInfId><DbtrAcct><Id><IBAN>{PAYER}</IBAN></Id></DbtrAcct>\
         <CdtTrfTxInf><PmtId><EndToEndId>P-1</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">99.00</InstdAmt></Amt>\
         <CdtrAcct><Id><IBAN>{MULE}</IBAN></Id></CdtrAcct></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"
    );
    let (status, answer) = post_xml(app, "application/xml; charset=utf-8", pain).await;
    assert_eq!(
        (status, answer["decisions"][0]["decision"].as_str()),
        (200, Some("block")),
        "{answer}"
    );

    let (status, error) = post_xml(app, "application/xml", document("pacs.008.001.02", &txs)).await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("unsupported_message")));
    let (status, error) = post_xml(
        app,
        "application/xml",
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf><GrpHdr></FIToFICstmrCdtTrf>".to_owned(),
    )
    .await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_xml")));
    let (status, error) = post_xml(app, "text/plain", "hello".to_owned()).await;
    assert_eq!((status, error["error"]["code"].as_str()), (415, Some("unsupported_media_type")));
    let (status, error) = post_xml(app, "application/xml", format!("{}<Document/>", document("pacs.008.001.08", &txs))).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("invalid_xml")),
        "a second root element"
    );
    let (status, error) = post_xml(app, "application/xml", document("pacs.008.001.99", &txs)).await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("unsupported_message")));
    let (status, error) = post_xml(app, "application/xml", document("pacs.008.001.08", &txs).replace("M-1", "M&#0;1")).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("invalid_xml")),
        "&#0; is not XML"
    );
}

/// The probe: a body over the limit was answered `413` and an unreadable body `400`, both as
/// `text/plain` "Failed to buffer the request body…". Every error is the JSON error body.
async fn oversized_and_unreadable_bodies_get_json_errors(app: &TestApp) {
    let big = "x".repeat(300 * 1024);
    for content_type in ["application/xml", "application/json"] {
        let response = app
            .http
            .post(app.url("/api/v1/payments/score"))
            .bearer_auth(&app.bank.token)
            .header("content-type", content_type)
            .body(big.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(response.headers()["content-type"], "application/json", "{content_type}");
        let (status, error) = crate::helpers::decode(response).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (413, Some("payload_too_large")),
            "{content_type}"
        );
    }
    // A chunked body that breaks off in the middle of a chunk.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/payments/score HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/xml\r\n\
         transfer-encoding: chunked\r\n\r\nZZ\r\nnot a chunk\r\n",
        app.bank.token
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("content-type: application/json"), "{answer}");
    assert!(answer.contains("\"code\":\"unreadable_body\""), "{answer}");
}
