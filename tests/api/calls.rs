//! Call screening and the on-call signal over HTTP, and the payment rule that uses it.

use serde_json::{Value, json};
use vangnet_services::screening::calls::subscriber_ref;

use crate::api_tests;
use crate::helpers::{TestApp, report_body};

api_tests! {
    protected_and_spoofed_numbers_are_blocked,
    do_not_originate_entries_belong_to_their_owner,
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
    assert_eq!(
        (listed["e164"].as_str(), listed["added"].as_bool(), listed["state"].as_str()),
        (Some(HELPDESK), Some(true), Some("pending"))
    );
    let (_, pending) = telecom
        .post("/api/v1/calls/events", &call("c-1b", "start", HELPDESK, GRANDMA, "domestic"))
        .await;
    assert_eq!(pending["decision"], "allow", "a bank's entry waits for the operator: {pending}");
    let (status, approved) = app
        .operator
        .post("/api/v1/protected-numbers/%2B31201234567/approve", &json!(null))
        .await;
    assert_eq!((status, approved["state"].as_str()), (200, Some("active")), "{approved}");
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
        .telecom()
        .put("/api/v1/protected-numbers", &json!({"numbers": ["+31881234567", "0881234568"]}))
        .await;
    assert_eq!((status, bulk["added"].as_u64()), (200, Some(2)), "{bulk}");
    assert_eq!(
        bulk["results"][0]["state"], "active",
        "a telecom provider's entries are active at once: {bulk}"
    );

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

/// The probe: a bank deleted a number another bank had protected, and a spoofed call from it
/// went from `block` to `allow`; any bank could put any consumer's mobile on the list.
async fn do_not_originate_entries_belong_to_their_owner(app: &TestApp) {
    let telecom = app.telecom();
    let start = |id: &str| call(id, "start", HELPDESK, GRANDMA, "domestic");
    let (status, _) = app.bank.put("/api/v1/protected-numbers/%2B31201234567", &json!(null)).await;
    assert_eq!(status, 200);
    let (status, _) = app
        .operator
        .post("/api/v1/protected-numbers/%2B31201234567/approve", &json!(null))
        .await;
    assert_eq!(status, 200);
    assert_eq!(telecom.post("/api/v1/calls/events", &start("o-1")).await.1["decision"], "block");

    // Another bank can neither remove nor take over the entry.
    let (status, body) = app.other_bank.delete("/api/v1/protected-numbers/%2B31201234567").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_owner")), "{body}");
    assert_eq!(
        telecom.post("/api/v1/calls/events", &start("o-2")).await.1["decision"],
        "block",
        "still protected"
    );
    let (status, body) = app.other_bank.put("/api/v1/protected-numbers/%2B31201234567", &json!(null)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("number_owned_by_other_partner")),
        "{body}"
    );
    let (status, _) = app.other_bank.get("/api/v1/protected-numbers/%2B31201234567").await;
    assert_eq!(status, 404, "another bank does not see the entry's history");
    let (status, body) = app.telecom().delete("/api/v1/protected-numbers/%2B31201234567").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_owner")));

    // A bank cannot silence a consumer's mobile on its own: its entry waits for the operator.
    let (status, body) = app.other_bank.put("/api/v1/protected-numbers/0612345679", &json!(null)).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("pending")), "{body}");
    let (_, mobile) = telecom
        .post("/api/v1/calls/events", &call("o-3", "start", "+31612345679", GRANDMA, "domestic"))
        .await;
    assert_eq!(mobile["decision"], "allow", "pending entries are not screened: {mobile}");
    let (status, pending) = app.operator.get("/api/v1/protected-numbers?state=pending").await;
    assert_eq!(status, 200);
    let pending: Vec<&str> = pending["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["e164"].as_str())
        .collect();
    assert_eq!(pending, vec!["+31612345679"], "the operator's approval queue");
    let (status, body) = app
        .bank
        .post("/api/v1/protected-numbers/%2B31612345679/approve", &json!(null))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "only operators approve"
    );
    let (status, _) = app.operator.delete("/api/v1/protected-numbers/%2B31612345679").await;
    assert_eq!(status, 204, "rejecting is removing");

    // The owner sees its entries and every change, the operator's too.
    let (status, own) = app.bank.get("/api/v1/protected-numbers").await;
    assert_eq!(status, 200);
    assert_eq!(own["items"].as_array().map(Vec::len), Some(1), "{own}");
    assert_eq!(own["items"][0]["owner"], app.bank.partner.id.as_str());
    let (status, body) = app.operator.delete("/api/v1/protected-numbers/%2B31201234567").await;
    assert_eq!(status, 204, "an operator removes anyone's: {body}");
    let (status, history) = app.bank.get("/api/v1/protected-numbers/%2B31201234567").await;
    assert_eq!((status, history["state"].as_str()), (200, Some("removed")), "{history}");
    let changes: Vec<(&str, &str)> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| (c["change"].as_str().unwrap_or(""), c["actor"].as_str().unwrap_or("")))
        .collect();
    let (bank, operator) = (app.bank.partner.actor(), app.operator.partner.actor());
    assert_eq!(
        changes,
        vec![
            ("requested", bank.as_str()),
            ("approved", operator.as_str()),
            ("removed", operator.as_str())
        ]
    );
    let audit = app.store.audit_entries_of(&operator, 50).await.expect("audit");
    assert_eq!(
        audit.iter().filter(|e| e.action == "call_list.change").count(),
        3,
        "approve, reject, remove"
    );

    // Spoofing exceptions have owners too.
    let other_telecom = app.new_client("Ander Net", vangnet_core::PartnerKind::Telecom).await;
    let (status, _) = telecom.put("/api/v1/spoofing-exceptions/%2B31687654321", &json!(null)).await;
    assert_eq!(status, 200);
    let (status, _) = other_telecom.delete("/api/v1/spoofing-exceptions/%2B31687654321").await;
    assert_eq!(status, 403);
    let (status, own) = other_telecom.get("/api/v1/spoofing-exceptions").await;
    assert_eq!((status, own["items"].as_array().map(Vec::len)), (200, Some(0)));
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
