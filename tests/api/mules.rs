//! Money-mule detection through the real server: transactions in (validation, idempotency),
//! a fan-in flagged, who sees which flags and IBANs, partners' mule reports in the score, a
//! payment to the flagged account held, the audit, and the detectors' window across a restart.

use serde_json::{Value, json};
use vangnet_core::Timestamp;
use vangnet_core::indicator::iban_check_digits;
use vangnet_core::partner::PartnerKind;

use crate::api_tests;
use crate::helpers::{Client, Db, TestApp, report_body, test_settings};
use crate::web::console_sign_in;

api_tests! {
    a_fan_in_is_flagged_and_banks_see_only_their_own,
    transaction_batches_are_checked_one_by_one_and_idempotent,
    mule_reports_feed_the_score_and_reads_are_audited,
    the_console_draws_the_alerts_and_looks_up_an_account,
}

/// A valid Dutch IBAN of bank `code` with account number `n`.
pub fn nl_iban(code: &str, n: u64) -> String {
    let bban = format!("{code}{n:010}");
    format!("NL{}{bban}", iban_check_digits("NL", &bban).expect("valid BBAN"))
}

fn hours_ago(h: i64) -> String {
    Timestamp::now().plus_millis(-h * 3_600_000).to_rfc3339()
}

fn transfer(id: &str, payer: &str, payee: &str, euros: &str, at: &str) -> Value {
    json!({"id": id, "payer": payer, "payee": payee, "amount": {"value": euros, "currency": "EUR"}, "at": at})
}

/// Bank A answers for ABNA, Bank B for INGB.
async fn directory(app: &TestApp) {
    for (code, partner) in [("ABNA", &app.bank), ("INGB", &app.other_bank)] {
        let (status, body) = app
            .operator
            .put(&format!("/api/v1/pnbf/bank-codes/{code}"), &json!({"partner": partner.partner.id}))
            .await;
        assert!(status == 200 || status == 201, "{status} {body}");
    }
}

/// Twelve ABNA customers pay one INGB account within a few hours: a fan-in.
async fn fan_in(sender: &Client, mule: &str) -> Value {
    let transactions: Vec<Value> = (0..12)
        .map(|i| {
            transfer(
                &format!("fan-{i}"),
                &nl_iban("ABNA", 1_000 + i),
                mule,
                "450.00",
                &hours_ago(12 - i as i64),
            )
        })
        .collect();
    let (status, out) = sender.post("/api/v1/transactions", &json!({"transactions": transactions})).await;
    assert_eq!(status, 200, "{out}");
    out
}

async fn a_fan_in_is_flagged_and_banks_see_only_their_own(app: &TestApp) {
    directory(app).await;
    let mule = nl_iban("INGB", 777);
    let out = fan_in(&app.bank, &mule).await;
    assert_eq!((out["received"].as_u64(), out["stored"].as_u64()), (Some(12), Some(12)), "{out}");

    // The holder of the mule's account sees the flag, its own IBAN, not the payers' IBANs.
    let (status, account) = app.other_bank.get(&format!("/api/v1/mules/accounts/{mule}")).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["iban"], mule.as_str());
    let flag = &account["flags"][0];
    assert_eq!(flag["pattern"], "fan_in", "{account}");
    assert_eq!(flag["accounts"][0]["centre"], true);
    assert_eq!(flag["accounts"][0]["iban"], mule.as_str());
    assert_eq!(flag["accounts"][1]["visible"], false, "another bank's customer: {flag}");
    assert!(flag["accounts"][1].get("iban").is_none());
    assert_eq!(flag["accounts"][1]["bank"], "ABNA");
    assert!(account["score"].as_f64().is_some_and(|s| s > 0.9), "{account}");
    assert_eq!(account["reasons"][0]["kind"], "pattern");
    assert!(account["reasons"][0]["explanation"].as_str().is_some_and(|e| e.contains("fan_in")));

    // The payers' bank: its customers paid the mule, so it sees the mule and its customers.
    let (status, seen) = app.bank.get(&format!("/api/v1/mules/accounts/{}", mule.to_lowercase())).await;
    assert_eq!(status, 200, "{seen}");
    let accounts = seen["flags"][0]["accounts"].as_array().expect("accounts");
    assert!(accounts.iter().all(|a| a["visible"] == true), "{seen}");
    assert!(
        accounts[1]["iban"]
            .as_str()
            .is_some_and(|i| i.starts_with("NL") && i.contains("ABNA"))
    );

    // A bank with no part in it learns nothing, not even whether the account is flagged.
    let third = app.new_client("Bank C", PartnerKind::Bank).await;
    let (status, body) = third.get(&format!("/api/v1/mules/accounts/{mule}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, alerts) = third.get("/api/v1/mules/alerts").await;
    assert_eq!(status, 200);
    assert_eq!(alerts["alerts"], json!([]), "{alerts}");
    // Telecom providers do not read mule flags; the police read all.
    let (status, _) = app.telecom().get(&format!("/api/v1/mules/accounts/{mule}")).await;
    assert_eq!(status, 403);
    let (status, all) = app.police.get("/api/v1/mules/alerts?limit=1").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["alerts"].as_array().map(Vec::len), Some(1));
    let newest = &all["alerts"][0];
    assert!(
        newest["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .all(|a| a["iban"].is_string())
    );
    let next = all["next"].as_i64().expect("a next page");
    let (_, older) = app.police.get(&format!("/api/v1/mules/alerts?before={next}&limit=100")).await;
    assert!(
        older["alerts"].as_array().is_some_and(|a| !a.is_empty()),
        "the pattern grew: several flags"
    );
    let (status, holder) = app.other_bank.get("/api/v1/mules/alerts").await;
    assert_eq!(status, 200);
    assert!(holder["alerts"].as_array().is_some_and(|a| !a.is_empty()), "{holder}");
    let (status, bad) = app.police.get("/api/v1/mules/alerts?limit=1000").await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("limit")));

    // A payment to the flagged account is held, and says why.
    let (status, decision) = app
        .bank
        .post(
            "/api/v1/payments/score",
            &json!({
                "id": "pay-to-mule",
                "payer": {"iban": nl_iban("ABNA", 5_555)},
                "payee": {"iban": mule},
                "amount": {"value": "80.00", "currency": "EUR"},
            }),
        )
        .await;
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "hold", "{decision}");
    assert_eq!(decision["reasons"][0]["code"], "payee_mule", "{decision}");
}

async fn transaction_batches_are_checked_one_by_one_and_idempotent(app: &TestApp) {
    let payee = nl_iban("INGB", 42);
    let good = transfer("t-1", &nl_iban("ABNA", 1), &payee, "10.00", &hours_ago(1));
    let batch = json!({"transactions": [
        good,
        transfer("t-2", "NL00NOTANIBAN", &payee, "10.00", &hours_ago(1)),
        transfer("t-3", &nl_iban("ABNA", 2), &payee, "10.00", &Timestamp::now().plus_millis(3_600_000).to_rfc3339()),
        transfer("t-4", &nl_iban("ABNA", 3), &payee, "10.00", &hours_ago(24 * 400)),
        transfer("t/5", &nl_iban("ABNA", 4), &payee, "10.00", &hours_ago(1)),
        transfer("t-6", &nl_iban("ABNA", 5), &payee, "-3.00", &hours_ago(1)),
    ]});
    let (status, out) = app.bank.post("/api/v1/transactions", &batch).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!((out["received"].as_u64(), out["stored"].as_u64()), (Some(6), Some(1)), "{out}");
    let failed: Vec<(u64, &str, &str)> = out["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|f| {
            (
                f["index"].as_u64().unwrap_or(99),
                f["error"]["code"].as_str().unwrap_or(""),
                f["error"]["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![
            (1, "invalid_iban", "transactions[1].payer"),
            (2, "in_future", "transactions[2].at"),
            (3, "too_old", "transactions[3].at"),
            (4, "invalid_transaction_id", "transactions[4].id"),
            (5, "invalid_amount", "transactions[5].amount.value"),
        ]
    );
    // The same again: a repeat; the same id with other content: a conflict.
    let changed = transfer("t-1", &nl_iban("ABNA", 1), &payee, "11.00", &hours_ago(1));
    let (status, again) = app
        .bank
        .post(
            "/api/v1/transactions",
            &json!({"transactions": [batch["transactions"][0].clone(), changed]}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((again["stored"].as_u64(), again["repeats"].as_u64()), (Some(0), Some(1)), "{again}");
    assert_eq!(again["failed"][0]["error"]["code"], "id_conflict");
    assert_eq!(again["failed"][0]["index"], 1);
    // Ids are the sender's own: another bank may use t-1.
    let (_, theirs) = app
        .other_bank
        .post("/api/v1/transactions", &json!({"transactions": [batch["transactions"][0].clone()]}))
        .await;
    assert_eq!(theirs["stored"], 1, "{theirs}");
    // Whole-batch errors and rights.
    let (status, empty) = app.bank.post("/api/v1/transactions", &json!({"transactions": []})).await;
    assert_eq!((status, empty["error"]["code"].as_str()), (422, Some("invalid_batch_size")));
    let many: Vec<Value> = (0..10_001).map(|i| json!({"id": format!("x{i}")})).collect();
    let (status, _) = app.bank.post("/api/v1/transactions", &json!({"transactions": many})).await;
    assert!(status == 422 || status == 413, "{status}");
    let (status, _) = app.police.post("/api/v1/transactions", &batch).await;
    assert_eq!(status, 403, "the police do not send transactions");
    let (status, body) = app.bank.post("/api/v1/transactions", &json!({"transactions": "no"})).await;
    assert_eq!(status, 422, "{body}");
}

async fn mule_reports_feed_the_score_and_reads_are_audited(app: &TestApp) {
    directory(app).await;
    let reported = nl_iban("INGB", 9_001);
    let mut body = report_body("friend_in_need", "amber", &[]);
    body["indicators"] = json!([{"kind": "iban", "value": reported, "role": "mule"}]);
    app.report(&app.police, body).await;
    let (status, account) = app.other_bank.get(&format!("/api/v1/mules/accounts/{reported}")).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["mule_reports"], 1, "{account}");
    assert_eq!(account["flags"], json!([]));
    assert!((account["score"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-6, "{account}");
    assert_eq!(account["reasons"][0]["kind"], "reports");
    let entries = app.store.audit_entries(0, 10_000).await.expect("audit");
    assert!(
        entries
            .iter()
            .any(|e| e.action == "mule.account.read" && e.subject.starts_with("indicator:") && !e.subject.contains(&reported)),
        "the read is audited under the account's pseudonym"
    );
    let (_, _) = app.other_bank.get("/api/v1/mules/alerts").await;
    let entries = app.store.audit_entries(0, 10_000).await.expect("audit");
    assert!(
        entries
            .iter()
            .any(|e| e.action == "mule.alerts.read" && e.actor.contains(&app.other_bank.partner.id))
    );
}

/// The detectors' window survives a restart: half a fan-in before, half after, one flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_is_replayed_after_a_restart() {
    let db = Db::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let mule = nl_iban("INGB", 31_337);
    let half = |range: std::ops::Range<u64>| -> Value {
        let t: Vec<Value> = range
            .map(|i| {
                transfer(
                    &format!("r-{i}"),
                    &nl_iban("RABO", 100 + i),
                    &mule,
                    "600.00",
                    &hours_ago(10 - i as i64),
                )
            })
            .collect();
        json!({"transactions": t})
    };
    let (status, _) = app.bank.post("/api/v1/transactions", &half(0..4)).await;
    assert_eq!(status, 200);
    let (_, none) = app.police.get("/api/v1/mules/alerts").await;
    assert_eq!(none["alerts"], json!([]), "four payers are not a fan-in yet");
    let app = app.restart(test_settings()).await;
    let (status, _) = app.bank.post("/api/v1/transactions", &half(4..8)).await;
    assert_eq!(status, 200);
    let (_, alerts) = app.police.get("/api/v1/mules/alerts").await;
    let flagged = alerts["alerts"].as_array().expect("alerts");
    assert!(!flagged.is_empty(), "the four before the restart count: {alerts}");
    assert_eq!(flagged[0]["pattern"], "fan_in");
    assert_eq!(flagged[0]["accounts"][0]["iban"], mule.as_str());
    app.stop().await;
}

async fn the_console_draws_the_alerts_and_looks_up_an_account(app: &TestApp) {
    directory(app).await;
    let mule = nl_iban("INGB", 8_080);
    fan_in(&app.bank, &mule).await;
    // The holder of the mule's account: the alert, drawn and tabled, without JavaScript.
    let mut holder = console_sign_in(app, &app.other_bank.token).await;
    let page = holder.get("/partner/geldezels").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg") && page.body.contains("role=\"img\""), "an SVG graph");
    assert!(page.body.contains("<title id=\"flag-"), "with a title");
    assert!(
        page.body.contains("veel betalers naar één rekening"),
        "the pattern in Dutch, not its key"
    );
    assert!(!page.body.contains(">fan_in<"), "no raw codes");
    assert!(page.body.contains(&mule), "its own account's IBAN");
    assert!(
        page.body.contains("rekening bij een andere bank"),
        "the payers are another bank's customers"
    );
    assert!(!page.body.contains(&nl_iban("ABNA", 1_000)), "no payer IBAN");
    let english = holder.get("/partner/geldezels?lang=en").await;
    assert!(
        english.body.contains("many payers into one account"),
        "English labels on the English page"
    );
    let found = holder.get(&format!("/partner/geldezels?iban={mule}")).await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("id=\"mule-score\""), "{}", found.body);
    let bad = holder.get("/partner/geldezels?iban=NL00GEEN").await;
    assert!(bad.body.contains("id=\"iban-error\""));
    // A bank with no part in it sees no alert; a telecom provider not the page.
    let third = app.new_client("Bank C", PartnerKind::Bank).await;
    let mut other = console_sign_in(app, &third.token).await;
    let empty = other.get("/partner/geldezels").await;
    assert!(!empty.body.contains("<svg"), "no alerts for a bank with no part in them");
    let hidden = other.get(&format!("/partner/geldezels?iban={mule}")).await;
    assert!(hidden.body.contains("niets dat u mag zien"), "not visible");
    let mut telecom = console_sign_in(app, &app.telecom().token).await;
    assert_eq!(telecom.get("/partner/geldezels").await.status, 404);
}
