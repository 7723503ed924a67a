//! Call screening and the on-call signal over HTTP, and the payment rule that uses it.

use serde_json::{Value, json};
use vangnet_server::screening::calls::subscriber_ref;

use crate::api_tests;
use crate::helpers::{TestApp, report_body};

api_tests! {
    protected_and_spoofed_numbers_are_blocked,
    the_on_call_signal_reaches_the_payment_decision,
    call_rights_and_validation,
}

fn call(id: &str, event: &str, caller: &str, callee: &str, ingress: &str) -> Value {
    json!({"call_id": id, "event": event, "caller": caller, "callee": callee, "ingress": ingress})
}

async fn reference(app: &TestApp, e164: &str) -> String {
    let key = app.store.setting("subscriber_key").await.expect("query").expect("made at start");
    subscriber_ref(key.as_bytes(), e164)
}

const HELPDESK: &str = "+31201234567";
const GRANDMA: &str = "+31612345678";

async fn protected_and_spoofed_numbers_are_blocked(app: &TestApp) {
    let telecom = app.telecom();
    let (_, before) = telecom
        .post("/api/v1/calls/events", &call("c-1", "start", HELPDESK, GRANDMA, "domestic"))
        .await;
    assert_eq!(before["decision"], "allow", "{before}");
    let (status, listed) = app.bank.put("/api/v1/protected-numbers/020-1234567", &json!(null)).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!((listed["e164"].as_str(), listed["added"].as_bool()), (Some(HELPDESK), Some(true)));
    let (_, blocked) = telecom
        .post("/api/v1/calls/events", &call("c-2", "start", HELPDESK, GRANDMA, "domestic"))
        .await;
    assert_eq!(blocked["decision"], "block");
    assert_eq!(blocked["reasons"][0]["code"], "caller_protected_number");
    let mut vouched = call("c-3", "start", HELPDESK, GRANDMA, "domestic");
    vouched["verified_origin"] = json!(true);
    let (_, own) = telecom.post("/api/v1/calls/events", &vouched).await;
    assert_eq!(own["decision"], "allow", "the bank's own outgoing call: {own}");
    let (status, _) = app.bank.delete(&format!("/api/v1/protected-numbers/{}", "%2B31201234567")).await;
    assert_eq!(status, 204);
    let (_, after) = telecom
        .post("/api/v1/calls/events", &call("c-4", "start", HELPDESK, GRANDMA, "domestic"))
        .await;
    assert_eq!(after["decision"], "allow");

    let (status, bulk) = app
        .bank
        .put("/api/v1/protected-numbers", &json!({"numbers": ["+31881234567", "0881234568"]}))
        .await;
    assert_eq!((status, bulk["added"].as_u64()), (200, Some(2)), "{bulk}");

    let roaming = "+31687654321";
    let (_, spoofed) = telecom
        .post("/api/v1/calls/events", &call("c-5", "start", roaming, GRANDMA, "international"))
        .await;
    assert_eq!(
        (spoofed["decision"].as_str(), spoofed["reasons"][0]["code"].as_str()),
        (Some("block"), Some("spoofed_domestic_number"))
    );
    let (status, _) = telecom.put(&format!("/api/v1/spoofing-exceptions/{roaming}"), &json!(null)).await;
    assert_eq!(status, 200);
    let (_, abroad) = telecom
        .post("/api/v1/calls/events", &call("c-6", "start", roaming, GRANDMA, "international"))
        .await;
    assert_eq!(abroad["decision"], "allow", "an own subscriber roaming abroad");

    app.report(&app.police, report_body("bankhelpdesk", "green", &["+31623456789"]))
        .await;
    let (_, flagged) = telecom
        .post("/api/v1/calls/events", &call("c-7", "start", "+31623456789", GRANDMA, "domestic"))
        .await;
    assert_eq!(
        (flagged["decision"].as_str(), flagged["reasons"][0]["code"].as_str()),
        (Some("flag"), Some("caller_reported"))
    );
}

async fn the_on_call_signal_reaches_the_payment_decision(app: &TestApp) {
    let telecom = app.telecom();
    let grandma = reference(app, GRANDMA).await;
    let signal = |v: &Value| (v["on_call"].as_bool(), v["unverified_caller"].as_bool());
    let (status, quiet) = app.bank.get(&format!("/api/v1/signals/on-call/{grandma}")).await;
    assert_eq!((status, signal(&quiet)), (200, (Some(false), Some(false))));

    let fake = "+31201112233";
    telecom
        .post("/api/v1/calls/events", &call("c-1", "start", fake, GRANDMA, "domestic"))
        .await;
    let (_, ringing) = app.bank.get(&format!("/api/v1/signals/on-call/{grandma}")).await;
    assert_eq!(signal(&ringing), (Some(true), Some(true)), "a caller she never spoke to: {ringing}");
    let audited = app.store.audit_entries_of(&app.bank.partner.actor(), 10).await.expect("audit");
    assert!(audited.iter().any(|e| e.action == "signal.on_call"), "every signal read is audited");

    let mut payment = json!({
        "id": "pay-1",
        "payer": {"iban": "NL02ABNA0123456789", "subscriber_ref": grandma},
        "payee": {"iban": "NL20INGB0001234567"},
        "amount": {"value": "4500.00", "currency": "EUR"},
        "instant": true,
    });
    let (_, decision) = app.bank.post("/api/v1/payments/score", &payment).await;
    let codes: Vec<&str> = decision["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"payer_on_call_unverified"), "{decision}");
    assert_eq!(decision["decision"], "hold", "{decision}");

    telecom
        .post("/api/v1/calls/events", &call("c-1", "end", fake, GRANDMA, "domestic"))
        .await;
    let (_, hung_up) = app.bank.get(&format!("/api/v1/signals/on-call/{grandma}")).await;
    assert_eq!(signal(&hung_up), (Some(false), Some(false)));
    payment["id"] = json!("pay-2");
    let (_, later) = app.bank.post("/api/v1/payments/score", &payment).await;
    assert!(!later.to_string().contains("payer_on_call_unverified"), "{later}");

    let (status, _) = telecom.put(&format!("/api/v1/signals/opt-out/{grandma}"), &json!(null)).await;
    assert_eq!(status, 204);
    telecom
        .post("/api/v1/calls/events", &call("c-2", "start", fake, GRANDMA, "domestic"))
        .await;
    let (_, opted_out) = app.bank.get(&format!("/api/v1/signals/on-call/{grandma}")).await;
    assert_eq!(signal(&opted_out), (Some(false), Some(false)), "opted out: never on a call");
}

async fn call_rights_and_validation(app: &TestApp) {
    let telecom = app.telecom();
    let (status, _) = app
        .bank
        .post("/api/v1/calls/events", &call("c-1", "start", HELPDESK, GRANDMA, "domestic"))
        .await;
    assert_eq!(status, 403, "banks do not send call events");
    let grandma = reference(app, GRANDMA).await;
    let (status, _) = telecom.get(&format!("/api/v1/signals/on-call/{grandma}")).await;
    assert_eq!(status, 403, "only banks read the signal");
    let (status, _) = app.police.put("/api/v1/protected-numbers/+31201234567", &json!(null)).await;
    assert_eq!(status, 403);
    let (status, body) = app.bank.get("/api/v1/signals/on-call/06-12345678").await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_subscriber_ref")));
    for (body, code, field) in [
        (call("", "start", HELPDESK, GRANDMA, "domestic"), "invalid_call_id", "call_id"),
        (call("c", "ring", HELPDESK, GRANDMA, "domestic"), "invalid_parameter", "event"),
        (call("c", "start", "12", GRANDMA, "domestic"), "invalid_phone", "caller"),
        (call("c", "start", HELPDESK, "not a number", "domestic"), "invalid_phone", "callee"),
        (call("c", "start", HELPDESK, GRANDMA, "satellite"), "invalid_parameter", "ingress"),
    ] {
        let (status, error) = telecom.post("/api/v1/calls/events", &body).await;
        assert_eq!(
            (status, error["error"]["code"].as_str(), error["error"]["field"].as_str()),
            (422, Some(code), Some(field)),
            "{body}"
        );
    }
    let numbers: Vec<String> = (0..1001).map(|i| format!("+3120{i:07}")).collect();
    let (status, body) = app.bank.put("/api/v1/protected-numbers", &json!({"numbers": numbers})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("batch_too_large")));
    let (status, body) = app
        .bank
        .put("/api/v1/protected-numbers", &json!({"numbers": ["+31201234567", "nope"]}))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("numbers[1]")));
    assert!(
        app.store.call_numbers("protected").await.expect("query").is_empty(),
        "a bad batch stores nothing"
    );
}
