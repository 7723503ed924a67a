//! PNBF recovery cases through the HTTP API: two banks and a PSP, every transition and every
//! refused one, the term passing on the controllable clock (also across a restart), the NAW
//! visible to exactly the parties that may see it, the dossier and the figures.

use std::time::Duration;

use serde_json::{Value, json};
use vangnet_core::PartnerKind;
use vangnet_core::indicator::iban_check_digits;

use crate::api_tests;
use crate::helpers::{Client, Db, TestApp, report_body, test_settings};

api_tests! {
    a_case_from_request_to_naw_and_dossier,
    answers_outcomes_and_figures,
    eligibility_and_refused_input,
    only_the_payers_bank_opens_a_case,
}

const DAY: Duration = Duration::from_secs(86_400);
const PAYER: &str = "NL02ABNA0123456789";

/// A valid Dutch IBAN at `bank` (four letters) with account number `account` (ten digits).
fn iban(bank: &str, account: &str) -> String {
    let bban = format!("{bank}{account}");
    let check = iban_check_digits("NL", &bban).expect("check digits");
    format!("NL{check}{bban}")
}

/// Points the bank codes at the test banks: ABNA → Bank A (the victim's), INGB → Bank B,
/// ADYB → a PSP. Returns the PSP's client.
async fn directory(app: &TestApp) -> Client {
    let psp = app.new_client("Betaaldienst", PartnerKind::Psp).await;
    for (code, partner) in [
        ("ABNA", &app.bank.partner.id),
        ("ingb", &app.other_bank.partner.id),
        ("ADYB", &psp.partner.id),
    ] {
        let (status, body) = app
            .operator
            .put(&format!("/api/v1/pnbf/bank-codes/{code}"), &json!({"partner": partner}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = app
        .bank
        .put("/api/v1/pnbf/bank-codes/RABO", &json!({"partner": app.bank.partner.id}))
        .await;
    assert_eq!(status, 403, "only the operator keeps the directory");
    let (_, codes) = app.bank.get("/api/v1/pnbf/bank-codes").await;
    assert_eq!(codes.as_array().map(Vec::len), Some(3), "{codes}");
    assert_eq!(codes[2]["code"], "INGB", "by code, upper case");
    psp
}

fn case(payee: &str, amount: &str, category: &str) -> Value {
    json!({
        "payer_iban": PAYER,
        "payee_iban": payee,
        "amount": {"value": amount, "currency": "EUR"},
        "paid_at": vangnet_core::Timestamp::now().plus_millis(-5 * 86_400_000).date_string(),
        "method": "transfer",
        "category": category,
        "aangifte": "2026-PL1234-567",
        "reference": "ABN-77",
    })
}

async fn open(app: &TestApp, body: &Value) -> Value {
    let (status, case) = app.bank.post("/api/v1/pnbf/cases", body).await;
    assert_eq!(status, 201, "{case}");
    case
}

async fn police_reports(app: &TestApp, value: &str, n: usize) {
    for _ in 0..n {
        app.report(&app.police, report_body("marketplace", "amber", &[value])).await;
    }
}

async fn move_case(client: &Client, id: &str, body: Value) -> (u16, Value) {
    client.post(&format!("/api/v1/pnbf/cases/{id}/events"), &body).await
}

async fn expect_move(client: &Client, id: &str, body: Value, state: &str) -> Value {
    let (status, case) = move_case(client, id, body).await;
    assert_eq!((status, case["state"].as_str()), (200, Some(state)), "{case}");
    case
}

async fn expect_refused(client: &Client, id: &str, body: Value, status: u16, code: &str) {
    let (got, error) = move_case(client, id, body).await;
    assert_eq!((got, error["error"]["code"].as_str()), (status, Some(code)), "{error}");
}

fn state(app: &TestApp) -> &vangnet_services::Services {
    app.state.as_ref().expect("state")
}

async fn a_case_from_request_to_naw_and_dossier(app: &TestApp) {
    directory(app).await;
    let third = app.new_client("Bank C", PartnerKind::Bank).await;
    let payee = iban("INGB", "0001234567");
    police_reports(app, &payee, 3).await;
    let opened = open(app, &case(&payee, "350.00", "fake_seller")).await;
    let id = opened["id"].as_str().expect("id").to_owned();
    assert_eq!(opened["state"], "requested");
    assert_eq!(opened["eligible"], true);
    assert_eq!(opened["payee_bank"]["name"], "Bank B");
    assert_eq!(opened["your_side"], "victim_bank");
    assert!(opened["term_ends"].is_string());
    assert_eq!(opened["conditions"].as_array().map(Vec::len), Some(5));
    assert_eq!(opened["allowed_events"], json!(["withdraw"]));
    let link = opened["victim_link"].as_str().expect("link shown once").to_owned();
    assert!(link.starts_with("/zaak/") && link.len() == 6 + 64);

    // Only the two banks see the case; the link is never shown again.
    let (status, _) = third.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert_eq!(status, 404, "a third bank gets 404");
    let (status, _) = app.police.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert_eq!(status, 403);
    let (status, inbox_view) = app.other_bank.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(inbox_view["your_side"], "payee_bank");
    assert!(inbox_view.get("victim_link").is_none());
    assert_eq!(inbox_view["allowed_events"], json!(["repaid", "partially_repaid", "refused"]));
    let (_, inbox) = app.other_bank.get("/api/v1/pnbf/cases?box=inbox").await;
    assert_eq!(inbox[0]["id"], id.as_str());
    assert_eq!(inbox[0]["waiting_for_you"], true);
    let (_, outbox) = app.bank.get("/api/v1/pnbf/cases?box=outbox").await;
    assert_eq!(outbox[0]["other_bank"], "Bank B");
    assert_eq!(outbox[0]["waiting_for_you"], false, "the payee's bank has to answer first");

    // Moves of the wrong side, and moves the state does not allow.
    expect_refused(&app.bank, &id, json!({"event": "repaid"}), 409, "wrong_side").await;
    expect_refused(&app.other_bank, &id, json!({"event": "request_naw"}), 409, "wrong_side").await;
    expect_refused(&app.other_bank, &id, json!({"event": "release_naw"}), 409, "transition_not_allowed").await;
    expect_refused(
        &app.bank,
        &id,
        json!({"event": "close", "outcome": "recovered"}),
        409,
        "transition_not_allowed",
    )
    .await;
    expect_refused(&third, &id, json!({"event": "refused"}), 404, "not_found").await;
    expect_refused(&app.other_bank, &id, json!({"event": "term_expired"}), 422, "invalid_event").await;

    expect_move(
        &app.other_bank,
        &id,
        json!({"event": "refused", "reason": "holder will not repay"}),
        "refused",
    )
    .await;
    expect_refused(&app.other_bank, &id, json!({"event": "refused"}), 409, "transition_not_allowed").await;
    expect_move(&app.bank, &id, json!({"event": "request_naw"}), "naw_requested").await;
    expect_refused(&app.other_bank, &id, json!({"event": "release_naw"}), 422, "missing_field").await;
    let naw = json!({"name": "P. Oplichter", "address": "Kerkstraat 12, 1011 AA", "town": "Amsterdam"});
    let released = expect_move(&app.other_bank, &id, json!({"event": "release_naw", "naw": naw}), "naw_released").await;
    assert!(
        released.get("naw").is_none_or(Value::is_null),
        "the payee's bank does not read the NAW back"
    );
    expect_refused(
        &app.bank,
        &id,
        json!({"event": "withdraw", "reason": "x"}),
        409,
        "transition_not_allowed",
    )
    .await;

    // The NAW: the victim's bank sees it, with the note; nobody else; encrypted in the store.
    let (_, victim_view) = app.bank.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert_eq!(victim_view["naw"]["name"], "P. Oplichter");
    assert!(victim_view["naw"]["note"].as_str().is_some_and(|n| n.contains("not guaranteed")));
    assert!(victim_view["naw"]["delete_at"].is_string());
    let (_, payee_view) = app.other_bank.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert!(payee_view["naw"].is_null());
    let (status, _) = third.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert_eq!(status, 404);
    let row = app.store.pnbf_case(&id).await.expect("query").expect("case");
    let sealed = row.naw.expect("stored");
    assert!(!String::from_utf8_lossy(&sealed).contains("Oplichter"));
    assert!(!row.body.contains("Oplichter"));
    let reads = app.store.audit_entries_of(&app.bank.partner.actor(), 50).await.expect("audit");
    assert!(
        reads
            .iter()
            .any(|e| e.action == "pnbf.naw.read" && e.subject == format!("pnbf_case:{id}"))
    );
    assert!(reads.iter().any(|e| e.action == "pnbf.case.read"));
    assert!(
        reads.iter().all(|e| !e.details.contains("Oplichter")),
        "the NAW never reaches the audit details"
    );

    // The victim's page behind the link shows the NAW and the next step; a wrong link is 404.
    let page = app.http.get(app.url(&link)).send().await.expect("request");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("text");
    assert!(html.contains("P. Oplichter") && html.contains("350,00"), "{html}");
    let wrong = app
        .http
        .get(app.url(&format!("/zaak/{}", "0".repeat(64))))
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status().as_u16(), 404);
    let audit = app.store.audit_entries(0, 1000).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "pnbf.naw.read" && e.actor == "victim"));

    // A lost link: the victim's bank makes a new one; the old one stops working.
    let (status, _) = app.other_bank.post(&format!("/api/v1/pnbf/cases/{id}/link"), &json!(null)).await;
    assert_eq!(status, 404, "only the victim's bank makes links");
    let (status, fresh) = app.bank.post(&format!("/api/v1/pnbf/cases/{id}/link"), &json!(null)).await;
    assert_eq!(status, 200, "{fresh}");
    let fresh = fresh["victim_link"].as_str().expect("link").to_owned();
    assert_ne!(fresh, link);
    let old = app.http.get(app.url(&link)).send().await.expect("request");
    assert_eq!(old.status().as_u16(), 404);
    let new = app.http.get(app.url(&fresh)).send().await.expect("request");
    assert_eq!(new.status().as_u16(), 200);

    // The dossier: payment, aangifte, timeline, NAW and the registry evidence.
    let (status, dossier) = app.bank.get(&format!("/api/v1/pnbf/cases/{id}/dossier")).await;
    assert_eq!(status, 200, "{dossier}");
    assert_eq!(dossier["case"]["payment"]["payee_iban"], payee.as_str());
    assert_eq!(dossier["case"]["aangifte"], "2026-PL1234-567");
    assert_eq!(dossier["case"]["naw"]["town"], "Amsterdam");
    let timeline: Vec<&str> = dossier["case"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(timeline, ["open", "refused", "request_naw", "release_naw", "new_link"]);
    assert_eq!(dossier["registry_evidence"]["police_reports"], 3);
    assert_eq!(dossier["registry_evidence"]["aangifte_reports"], 3);
    assert_eq!(dossier["registry_evidence"]["status"], "reported");
    let (status, _) = app.other_bank.get(&format!("/api/v1/pnbf/cases/{id}/dossier")).await;
    assert_eq!(status, 404, "the dossier is the victim's bank's");
    let html = app.bank.text(&format!("/api/v1/pnbf/cases/{id}/dossier?format=html")).await;
    assert!(html.contains("P. Oplichter") && html.contains("2026-PL1234-567") && html.contains(&payee));

    expect_move(&app.bank, &id, json!({"event": "close", "outcome": "civil_claim"}), "closed").await;
    for event in ["withdraw", "close", "request_naw"] {
        expect_refused(
            &app.bank,
            &id,
            json!({"event": event, "reason": "x", "outcome": "recovered"}),
            409,
            "transition_not_allowed",
        )
        .await;
    }
}

/// Reads the case until `done` holds (the scheduler runs every 100 ms in the tests), at most
/// five seconds.
async fn wait_for(client: &Client, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (_, case) = client.get(&format!("/api/v1/pnbf/cases/{id}")).await;
        if done(&case) {
            return case;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, case) = client.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    panic!("{id}: {what} did not happen: {case}");
}

async fn wait_for_state(client: &Client, id: &str, want: &str) -> Value {
    wait_for(client, id, &format!("reaching {want}"), |c| c["state"] == want).await
}

async fn answers_outcomes_and_figures(app: &TestApp) {
    let psp = directory(app).await;
    let at_bank_b = |n: &str| iban("INGB", &format!("00000000{n}"));

    // Repaid in full, then closed.
    let repaid = open(app, &case(&at_bank_b("11"), "100.00", "message_or_phone")).await;
    let id = repaid["id"].as_str().expect("id");
    expect_move(&app.other_bank, id, json!({"event": "repaid"}), "repaid").await;
    expect_refused(&app.bank, id, json!({"event": "request_naw"}), 409, "transition_not_allowed").await;
    let closed = expect_move(&app.bank, id, json!({"event": "close", "outcome": "recovered"}), "closed").await;
    assert_eq!(closed["repaid"]["value"], "100.00");
    assert_eq!(closed["outcome"], "recovered");

    // Partly repaid: the amount must be more than 0 and less than what was paid.
    let partly = open(app, &case(&at_bank_b("12"), "200.00", "message_or_phone")).await;
    let id = partly["id"].as_str().expect("id");
    expect_refused(&app.other_bank, id, json!({"event": "partially_repaid"}), 422, "missing_field").await;
    for value in ["200.00", "0.00", "250.00"] {
        expect_refused(
            &app.other_bank,
            id,
            json!({"event": "partially_repaid", "amount": {"value": value, "currency": "EUR"}}),
            422,
            "invalid_amount",
        )
        .await;
    }
    let moved = expect_move(
        &app.other_bank,
        id,
        json!({"event": "partially_repaid", "amount": {"value": "50.00", "currency": "EUR"}}),
        "partially_repaid",
    )
    .await;
    assert_eq!(moved["repaid"]["value"], "50.00");
    expect_refused(&app.bank, id, json!({"event": "close"}), 422, "missing_field").await;
    expect_refused(&app.bank, id, json!({"event": "close", "outcome": "maybe"}), 422, "invalid_outcome").await;
    expect_move(&app.bank, id, json!({"event": "close", "outcome": "partly_recovered"}), "closed").await;

    // Withdrawn: needs a reason.
    let withdrawn = open(app, &case(&at_bank_b("13"), "75.50", "message_or_phone")).await;
    let id = withdrawn["id"].as_str().expect("id");
    expect_refused(&app.bank, id, json!({"event": "withdraw"}), 422, "missing_field").await;
    expect_move(
        &app.bank,
        id,
        json!({"event": "withdraw", "reason": "repaid by the seller directly"}),
        "withdrawn",
    )
    .await;
    expect_refused(&app.other_bank, id, json!({"event": "repaid"}), 409, "transition_not_allowed").await;

    // A PSP as the payee's side: the term passes on the clock; a reminder comes first.
    let psp_case = open(app, &case(&iban("ADYB", "0012345678"), "60.00", "message_or_phone")).await;
    let id = psp_case["id"].as_str().expect("id").to_owned();
    assert_eq!(psp_case["payee_bank"]["name"], "Betaaldienst");
    let clock = &state(app).settings.clock;
    clock.advance(DAY * 18 + Duration::from_secs(60));
    let reminded = wait_for(&psp, &id, "the reminder", |c| c["reminder_sent"] == true).await;
    assert_eq!(
        (reminded["state"].as_str(), reminded["reminder_sent"].as_bool()),
        (Some("requested"), Some(true)),
        "{reminded}"
    );
    clock.advance(DAY * 3);
    let expired = wait_for_state(&psp, &id, "no_response").await;
    let last = expired["events"].as_array().and_then(|e| e.last()).cloned().expect("event");
    assert_eq!(
        (last["event"].as_str(), last["actor"].as_str()),
        (Some("term_expired"), Some("system"))
    );
    expect_refused(&psp, &id, json!({"event": "repaid"}), 409, "transition_not_allowed").await;
    expect_move(&app.bank, &id, json!({"event": "request_naw"}), "naw_requested").await;
    expect_move(
        &psp,
        &id,
        json!({"event": "release_naw", "naw": {"name": "K. Katvanger", "address": "Laan 3", "town": "Zwolle"}}),
        "naw_released",
    )
    .await;

    // The NAW is deleted after its retention period.
    clock.advance(DAY * 181);
    let deleted = wait_for(&app.bank, &id, "the NAW's deletion", |c| c["naw_deleted_at"].is_string()).await;
    assert!(deleted["naw"].is_null(), "{deleted}");
    let row = app.store.pnbf_case(&id).await.expect("query").expect("case");
    assert!(row.naw.is_none(), "the NAW is gone from the store");

    // Ineligible cases count by reason.
    let mut foreign = case("DE89370400440532013000", "80.00", "message_or_phone");
    foreign["method"] = json!("card");
    let ineligible = open(app, &foreign).await;
    assert_eq!(ineligible["state"], "ineligible");

    // A bank sees its own rows and the total; the police only the total.
    let (_, own) = app.bank.get("/api/v1/pnbf/figures").await;
    let banks: Vec<&str> = own["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["bank"].as_str())
        .collect();
    assert_eq!(banks, ["Bank A", "total"], "{own}");
    let (_, police) = app.police.get("/api/v1/pnbf/figures").await;
    assert_eq!(police["rows"].as_array().map(Vec::len), Some(1));
    // The figures add up, per bank and in total (the operator sees every bank); also as CSV.
    let (status, figures) = app.operator.get("/api/v1/pnbf/figures").await;
    assert_eq!(status, 200, "{figures}");
    let rows = figures["rows"].as_array().expect("rows");
    let total = rows.iter().find(|r| r["bank"] == "total").expect("total");
    assert_eq!(total["cases"], 5);
    assert_eq!(total["ineligible"], 1);
    assert_eq!(total["ineligible_by_reason"], json!({"dutch_accounts": 1, "payment_method": 1}));
    assert_eq!((total["repaid"].as_u64(), total["partially_repaid"].as_u64()), (Some(1), Some(1)));
    assert_eq!((total["no_response"].as_u64(), total["naw_released"].as_u64()), (Some(1), Some(1)));
    assert_eq!((total["withdrawn"].as_u64(), total["closed"].as_u64()), (Some(1), Some(2)));
    assert_eq!(total["recovered"]["EUR"], "150.00");
    assert_eq!(total["claimed"]["EUR"], "435.50");
    assert!(
        total["median_days"]["no_response"]
            .as_f64()
            .is_some_and(|d| (21.0..21.1).contains(&d))
    );
    let as_payee = rows
        .iter()
        .find(|r| r["bank"] == "Bank B" && r["role"] == "payee_bank")
        .expect("Bank B as payee's bank");
    assert_eq!(as_payee["cases"], 3);
    let opened_total: u64 = total["opened_per_month"]
        .as_object()
        .expect("months")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(opened_total, 5);
    let csv = app.bank.text("/api/v1/pnbf/figures?format=csv").await;
    assert!(csv.starts_with("bank,role,cases,ineligible,repaid"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("total,all,5,1,1,1,0,1,1,1,2,")), "{csv}");
}

/// The probe: a bank opened eligible cases for accounts of another bank and of a code nobody
/// holds, and so could ask whether RED police reports exist against any IBAN.
async fn only_the_payers_bank_opens_a_case(app: &TestApp) {
    directory(app).await;
    let payee = iban("INGB", "0007654329");
    // Bank B holds INGB accounts, not the ABNA payer's: refused, nothing stored.
    let (status, body) = app
        .other_bank
        .post(
            "/api/v1/pnbf/cases",
            &case(&iban("ADYB", "0001234567"), "50.00", "message_or_phone"),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (403, Some("not_payers_bank"), Some("payer_iban")),
        "{body}"
    );
    let mut unknown = case(&payee, "50.00", "message_or_phone");
    unknown["payer_iban"] = json!(iban("RABO", "0300065264"));
    let (status, body) = app.bank.post("/api/v1/pnbf/cases", &unknown).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("unknown_payer_bank")),
        "{body}"
    );
    assert!(app.store.pnbf_cases(None).await.expect("cases").is_empty(), "nothing stored");

    // Only the police reports the victim's bank may read count towards the condition: three
    // RED and three AMBER+STRICT reports leave it unmet; three AMBER ones meet it.
    for tlp in ["red", "amber+strict"] {
        for _ in 0..3 {
            app.report(&app.police, report_body("marketplace", tlp, &[&payee])).await;
        }
    }
    let probe = open(app, &case(&payee, "120.00", "fake_seller")).await;
    assert_eq!(
        probe["state"], "ineligible",
        "reports the bank may not see tell it nothing: {probe}"
    );
    police_reports(app, &payee, 3).await;
    assert_eq!(open(app, &case(&payee, "120.00", "fake_seller")).await["state"], "requested");
}

async fn eligibility_and_refused_input(app: &TestApp) {
    directory(app).await;
    let payee = iban("INGB", "0007654321");
    // A fake-seller case needs three aangifte-backed police reports against the payee.
    police_reports(app, &payee, 2).await;
    let few = open(app, &case(&payee, "120.00", "fake_seller")).await;
    assert_eq!(few["state"], "ineligible");
    let failed: Vec<&str> = few["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .filter(|c| c["met"] == false)
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(failed, ["reports_against_payee"]);
    assert!(few["term_ends"].is_null());
    assert!(few["payee_bank"].is_null(), "an ineligible case is not sent to the payee's bank");
    let (_, inbox) = app.other_bank.get("/api/v1/pnbf/cases?box=inbox").await;
    assert_eq!(inbox, json!([]));
    assert_eq!(few["allowed_events"], json!([]));
    let id = few["id"].as_str().expect("id");
    expect_refused(
        &app.bank,
        id,
        json!({"event": "withdraw", "reason": "x"}),
        409,
        "transition_not_allowed",
    )
    .await;
    police_reports(app, &payee, 1).await;
    assert_eq!(open(app, &case(&payee, "120.00", "fake_seller")).await["state"], "requested");

    // Old payment, no aangifte.
    let mut old = case(&payee, "10.00", "message_or_phone");
    old["paid_at"] = json!("2024-01-15");
    old["aangifte"] = json!(null);
    let old = open(app, &old).await;
    let failed: Vec<&str> = old["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .filter(|c| c["met"] == false)
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(failed, ["payment_age", "aangifte"]);

    // The payee's bank must be in the directory for an eligible case.
    let (status, error) = app
        .bank
        .post(
            "/api/v1/pnbf/cases",
            &case(&iban("RABO", "0300065264"), "10.00", "message_or_phone"),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str(), error["error"]["field"].as_str()),
        (422, Some("unknown_payee_bank"), Some("payee_iban"))
    );

    // Invalid input names the field; nothing is stored.
    let before = app.store.pnbf_cases(None).await.expect("list").len();
    for (field, value, code) in [
        ("payer_iban", json!("NL00ABNA0123456789"), "invalid_iban"),
        ("method", json!("cash"), "invalid_payment_method"),
        ("category", json!("romance"), "invalid_category"),
        ("paid_at", json!("yesterday"), "invalid_timestamp"),
        ("amount", json!({"value": "-5", "currency": "EUR"}), "invalid_amount"),
        ("aangifte", json!("a\u{0}b"), "invalid_text"),
        ("colour", json!("red"), "unknown_field"),
    ] {
        let mut body = case(&payee, "10.00", "message_or_phone");
        body[field] = value;
        let (status, error) = app.bank.post("/api/v1/pnbf/cases", &body).await;
        assert_eq!((status, error["error"]["code"].as_str()), (422, Some(code)), "{field}: {error}");
    }
    assert_eq!(app.store.pnbf_cases(None).await.expect("list").len(), before);
    let (status, _) = app
        .police
        .post("/api/v1/pnbf/cases", &case(&payee, "10.00", "message_or_phone"))
        .await;
    assert_eq!(status, 403, "only banks and PSPs open cases");
    let (status, _) = app.bank.get("/api/v1/pnbf/cases/not-a-case").await;
    assert_eq!(status, 404);
    let (status, _) = app.bank.get("/api/v1/pnbf/cases?box=sideways").await;
    assert_eq!(status, 422);
}

/// A server started with another NAW key than the database's refuses to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_naw_key_is_refused_at_start() {
    let db = Db::sqlite().await;
    let settings = test_settings();
    let app = TestApp::spawn_with(&db, settings.clone()).await;
    app.stop().await;
    let mut other = settings;
    other.services.pnbf.naw_key = Some([7; 32]);
    let started = vangnet_server::Application::build(other, std::sync::Arc::clone(&db.store)).await;
    let error = started.expect_err("refused");
    assert!(
        matches!(
            error,
            vangnet_server::StartError::Services(vangnet_services::StartError::NawKey { .. })
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("the configured key") && message.contains("fingerprint"),
        "{message}"
    );
}

/// A term that is running when the server stops still passes after it starts again.
async fn a_term_survives_a_restart(db: &Db) {
    let settings = test_settings();
    let app = TestApp::spawn_with(db, settings.clone()).await;
    directory(&app).await;
    let opened = open(&app, &case(&iban("INGB", "0000000099"), "42.00", "message_or_phone")).await;
    let id = opened["id"].as_str().expect("id").to_owned();
    settings.services.clock.advance(DAY * 10);
    let app = app.restart(settings.clone()).await;
    let (_, still) = app.other_bank.get(&format!("/api/v1/pnbf/cases/{id}")).await;
    assert_eq!(still["state"], "requested", "ten days in, the term still runs");
    settings.services.clock.advance(DAY * 11 + Duration::from_secs(1));
    wait_for_state(&app.other_bank, &id, "no_response").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_term_survives_a_restart() {
    let db = Db::sqlite().await;
    a_term_survives_a_restart(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_term_survives_a_restart() {
    let Some(db) = Db::postgres().await else { return };
    a_term_survives_a_restart(&db).await;
    db.drop().await;
}
