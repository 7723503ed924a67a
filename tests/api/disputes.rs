//! Disputes through the HTTP API: who opens and who decides (every move by every partner kind,
//! allowed and refused), the indicator answering `disputed` and then `cleared` or `active` in
//! the partner and the public check, a new report about a cleared indicator opening a review,
//! objections from the public form, terms on the controllable clock, figures, paging, version
//! conflicts and the audit entries of every read.

use std::time::Duration;

use serde_json::{Value, json};
use vangnet_core::PartnerKind;
use vangnet_core::dispute::DisputePolicy;
use vangnet_core::indicator::{IndicatorKind, iban_check_digits};
use vangnet_store::NewDisputeRequest;

use crate::api_tests;
use crate::helpers::{Client, TestApp, report_body};

api_tests! {
    opening_needs_a_kind_that_may_and_the_holders_bank,
    every_move_by_every_partner_kind,
    upheld_clears_everywhere_and_a_new_report_opens_a_review,
    objections_from_the_public_form_are_turned_into_disputes_or_declined,
    terms_figures_paging_and_version_conflicts,
}

const DAY: Duration = Duration::from_secs(86_400);

/// A valid Dutch IBAN at `bank` with account number `n` (zero-padded to ten digits).
fn iban(bank: &str, n: u32) -> String {
    let bban = format!("{bank}{n:010}");
    let check = iban_check_digits("NL", &bban).expect("check digits");
    format!("NL{check}{bban}")
}

/// Points ABNA at Bank A in the PNBF directory (the holder's bank for `iban("ABNA", …)`).
async fn directory(app: &TestApp) {
    let (status, body) = app
        .operator
        .put("/api/v1/pnbf/bank-codes/ABNA", &json!({"partner": app.bank.partner.id}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// A value reported by the police and a bank (a public hit).
async fn listed(app: &TestApp, value: &str) {
    app.report(&app.police, report_body("marketplace", "green", &[value])).await;
    app.report(&app.other_bank, report_body("marketplace", "green", &[value])).await;
    assert_eq!(app.bank.check(value).await["status"], "reported");
}

async fn public_status(app: &TestApp, value: &str) -> String {
    let encoded: String = value.bytes().map(|b| format!("%{b:02X}")).collect();
    let response = app
        .http
        .get(app.url(&format!("/api/public/check?value={encoded}")))
        .send()
        .await
        .expect("public check");
    let body: Value = response.json().await.expect("json");
    body["status"].as_str().unwrap_or_default().to_owned()
}

async fn open(client: &Client, kind: &str, value: &str) -> (u16, Value) {
    client
        .post(
            "/api/v1/disputes",
            &json!({"kind": kind, "value": value, "reason": "De houder heeft de fiets echt geleverd."}),
        )
        .await
}

async fn opening_needs_a_kind_that_may_and_the_holders_bank(app: &TestApp) {
    directory(app).await;
    let value = iban("ABNA", 1);
    listed(app, &value).await;
    for kind in [PartnerKind::Telecom, PartnerKind::Marketplace] {
        let client = app.new_client(&format!("Partner {}", kind.as_str()), kind).await;
        let (status, body) = open(&client, "iban", &value).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{kind}: {body}");
    }
    let (status, body) = open(&app.other_bank, "iban", &value).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (403, Some("not_holders_bank"), Some("value")),
        "only the bank that holds the account: {body}"
    );
    for (reason, code) in [("   ", "missing_reason"), ("bel\u{7}", "invalid_text")] {
        let (status, body) = app
            .bank
            .post("/api/v1/disputes", &json!({"kind": "iban", "value": value, "reason": reason}))
            .await;
        assert_eq!((status, body["error"]["code"].as_str()), (422, Some(code)), "{body}");
    }
    let long = "x".repeat(2_001);
    let (status, body) = app
        .bank
        .post("/api/v1/disputes", &json!({"kind": "iban", "value": value, "reason": long}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("reason_too_long")));
    let (status, body) = open(&app.bank, "iban", "NL00NOPE").await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("value")), "{body}");
    assert_eq!(
        app.bank.check(&value).await["status"],
        "reported",
        "nothing refused changed the answer"
    );

    let (status, dispute) = open(&app.bank, "iban", &value).await;
    assert_eq!(status, 201, "{dispute}");
    assert_eq!(dispute["state"], "open");
    assert_eq!(dispute["opened_by"]["id"], app.bank.partner.id.as_str());
    assert_eq!(
        dispute["moves"],
        json!(["withdrawn"]),
        "a bank withdraws its own dispute, never decides"
    );
    assert_eq!(app.other_bank.check(&value).await["status"], "disputed");
    assert_eq!(public_status(app, &value).await, "disputed");
    let (status, body) = open(&app.police, "iban", &value).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("dispute_open")), "{body}");
    let id = dispute["id"].as_str().expect("id");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains(id));
    let (status, body) = app
        .police
        .put(&format!("/api/v1/indicators/iban/{value}/status"), &json!({"status": "active"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("dispute_open")),
        "the open dispute decides: {body}"
    );
    assert_eq!(app.other_bank.check(&value).await["status"], "disputed");
    // Other kinds of indicator: the fraud helpdesk opens one on a caller's behalf.
    let helpdesk = app.new_client("Fraudehelpdesk", PartnerKind::Helpdesk).await;
    app.report(&app.police, report_body("bankhelpdesk", "green", &["+31612345678"]))
        .await;
    let (status, body) = open(&helpdesk, "phone", "06 1234 5678").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["value"], "+31612345678", "normalised");
}

/// For each partner kind and each move, a fresh dispute opened by the operator, moved by a
/// partner of that kind that did not open it: allowed exactly as the policy says; a partner that
/// may not even read the dispute gets 404, one that reads but may not move it 403.
async fn every_move_by_every_partner_kind(app: &TestApp) {
    let policy = DisputePolicy::default();
    let mut n = 0;
    for kind in PartnerKind::ALL.into_iter().filter(|k| *k != PartnerKind::Citizen) {
        let mover = app.new_client(&format!("Mover {}", kind.as_str()), kind).await;
        for (path, outcome) in [("decision", "upheld"), ("decision", "rejected"), ("withdraw", "withdrawn")] {
            n += 1;
            let value = format!("betwist-{n}.nl");
            app.report(&app.police, report_body("webshop", "green", &[&value])).await;
            let (status, dispute) = open(&app.operator, "domain", &value).await;
            assert_eq!(status, 201, "{dispute}");
            let id = dispute["id"].as_str().expect("id");
            let body = if path == "withdraw" {
                json!({"reason": "ingetrokken"})
            } else {
                json!({"outcome": outcome, "reason": "beoordeeld"})
            };
            let (status, answer) = mover.post(&format!("/api/v1/disputes/{id}/{path}"), &body).await;
            let decider = policy.deciders(None).contains(&kind);
            let allowed = if path == "withdraw" {
                kind == PartnerKind::Operator
            } else {
                decider
            };
            let reader = decider || kind == PartnerKind::Operator;
            let expected = if allowed {
                200
            } else if reader {
                403
            } else {
                404
            };
            assert_eq!(status, expected, "{kind} {outcome}: {answer}");
            let check = app.bank.check(&value).await["status"].clone();
            let expected_check = match (allowed, outcome) {
                (false, _) => "disputed",
                (true, "upheld") => "not_reported",
                (true, _) => "reported",
            };
            assert_eq!(check, expected_check, "{kind} {outcome}");
            if allowed {
                assert_eq!(answer["state"], outcome);
                // Every outcome is final: a second move is refused with 409.
                let (status, again) = app
                    .operator
                    .post(&format!("/api/v1/disputes/{id}/withdraw"), &json!({"reason": "nog eens"}))
                    .await;
                assert_eq!(
                    (status, again["error"]["code"].as_str()),
                    (409, Some("transition_not_allowed")),
                    "{again}"
                );
            }
        }
    }
    // The opener withdraws its own dispute.
    let helpdesk = app.new_client("Helpdesk", PartnerKind::Helpdesk).await;
    app.report(&app.police, report_body("webshop", "green", &["eigen-bezwaar.nl"]))
        .await;
    let (_, dispute) = open(&helpdesk, "domain", "eigen-bezwaar.nl").await;
    let id = dispute["id"].as_str().expect("id");
    let (status, body) = helpdesk
        .post(
            &format!("/api/v1/disputes/{id}/withdraw"),
            &json!({"reason": "de houder trekt het in"}),
        )
        .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("withdrawn")), "{body}");
    let (status, body) = app
        .police
        .post(
            &format!("/api/v1/disputes/{id}/decision"),
            &json!({"outcome": "closed", "reason": "x"}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_outcome")));
    let (status, history) = helpdesk.get(&format!("/api/v1/disputes/{id}")).await;
    assert_eq!(status, 200);
    let events: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(events, ["opened", "withdrawn"]);
    assert_eq!(history["events"][1]["reason"], "de houder trekt het in");
}

async fn upheld_clears_everywhere_and_a_new_report_opens_a_review(app: &TestApp) {
    let value = "+31687654321";
    listed(app, value).await;
    let (_, dispute) = open(&app.police, "phone", value).await;
    let id = dispute["id"].as_str().expect("id");
    let (status, body) = app
        .police
        .post(
            &format!("/api/v1/disputes/{id}/decision"),
            &json!({"outcome": "upheld", "reason": "nummer was gespoofd", "version": 1}),
        )
        .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("upheld")), "{body}");
    assert!(body["decided_at"].is_string());
    assert_eq!(app.bank.check(value).await["status"], "not_reported", "cleared: never a hit again");
    assert_eq!(public_status(app, value).await, "not_reported");
    let (_, record) = app.police.get(&format!("/api/v1/indicators/phone/{}", "%2B31687654321")).await;
    assert_eq!(record["indicator_status"], "cleared");
    assert!(
        !record["status_reason"].as_str().unwrap_or_default().contains("gespoofd"),
        "the status names the dispute, not the reviewer's words: {record}"
    );

    // A new report about the cleared number does not reactivate it; it opens a review.
    app.report(&app.bank, report_body("bankhelpdesk", "green", &[value])).await;
    app.report(&app.other_bank, report_body("bankhelpdesk", "green", &[value])).await;
    assert_eq!(app.bank.check(value).await["status"], "not_reported");
    let (status, _) = app.bank.get("/api/v1/clearance-reviews").await;
    assert_eq!(status, 403, "only the police and the operator review cleared indicators");
    let (status, reviews) = app.operator.get("/api/v1/clearance-reviews").await;
    assert_eq!(status, 200, "{reviews}");
    let reviews = reviews.as_array().expect("list").clone();
    assert_eq!(reviews.len(), 1, "one review, counting both reports: {reviews:?}");
    assert_eq!(
        (reviews[0]["value"].as_str(), reviews[0]["reports"].as_i64()),
        (Some(value), Some(2))
    );
    let review = reviews[0]["id"].as_i64().expect("id");
    let (status, body) = app
        .police
        .post(
            &format!("/api/v1/clearance-reviews/{review}"),
            &json!({"outcome": "maybe", "reason": "x"}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_outcome")));
    let (status, body) = app
        .police
        .post(
            &format!("/api/v1/clearance-reviews/{review}"),
            &json!({"outcome": "reactivated", "reason": "nieuwe aangiftes, ander misbruik"}),
        )
        .await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("reactivated")), "{body}");
    assert_eq!(
        app.bank.check(value).await["status"],
        "reported",
        "active again, by a human's decision"
    );
    let (status, body) = app
        .police
        .post(
            &format!("/api/v1/clearance-reviews/{review}"),
            &json!({"outcome": "kept_cleared", "reason": "x"}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_reviewed")));
    let (status, _) = app
        .police
        .post(
            "/api/v1/clearance-reviews/99999",
            &json!({"outcome": "kept_cleared", "reason": "x"}),
        )
        .await;
    assert_eq!(status, 404);
}

async fn objections_from_the_public_form_are_turned_into_disputes_or_declined(app: &TestApp) {
    let value = "verkoop-echt.nl";
    listed(app, value).await;
    for id in ["0190a1b2-0000-7000-8000-000000000001", "0190a1b2-0000-7000-8000-000000000002"] {
        let request = NewDisputeRequest {
            id: id.to_owned(),
            kind: IndicatorKind::Domain,
            value: value.to_owned(),
            reason: "Dit is mijn eigen webwinkel; alle bestellingen zijn geleverd.".to_owned(),
            contact: Some("eigenaar@verkoop-echt.nl".to_owned()),
            language: "nl".to_owned(),
            submitter: "pseudonym".to_owned(),
        };
        app.store
            .add_dispute_request(&request, vangnet_core::Timestamp::now())
            .await
            .expect("stored");
    }
    assert_eq!(
        app.bank.check(value).await["status"],
        "reported",
        "an objection changes nothing by itself"
    );
    let (status, _) = app.bank.get("/api/v1/dispute-requests").await;
    assert_eq!(status, 403);
    let helpdesk = app.new_client("Fraudehelpdesk", PartnerKind::Helpdesk).await;
    let (status, pending) = helpdesk.get("/api/v1/dispute-requests").await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending.as_array().map(Vec::len), Some(2));
    assert_eq!(pending[0]["contact"], "eigenaar@verkoop-echt.nl");
    let first = pending[0]["id"].as_str().expect("id").to_owned();
    let second = pending[1]["id"].as_str().expect("id").to_owned();
    let (status, body) = helpdesk
        .post(
            &format!("/api/v1/dispute-requests/{first}"),
            &json!({"decision": "accept", "reason": "houder gebeld, klopt"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["state"].as_str(), body["joined_open_dispute"].as_bool()),
        (Some("accepted"), Some(false))
    );
    assert_eq!(app.bank.check(value).await["status"], "disputed");
    let dispute_id = body["dispute_id"].as_str().expect("dispute").to_owned();
    let (_, dispute) = helpdesk.get(&format!("/api/v1/disputes/{dispute_id}")).await;
    assert_eq!(dispute["reason"], "Dit is mijn eigen webwinkel; alle bestellingen zijn geleverd.");
    let (status, body) = helpdesk
        .post(
            &format!("/api/v1/dispute-requests/{second}"),
            &json!({"decision": "accept", "reason": "dezelfde"}),
        )
        .await;
    assert_eq!((status, body["joined_open_dispute"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(body["dispute_id"].as_str(), Some(dispute_id.as_str()));
    let (status, body) = helpdesk
        .post(
            &format!("/api/v1/dispute-requests/{first}"),
            &json!({"decision": "decline", "reason": "toch niet"}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_reviewed")));
    let (status, body) = helpdesk
        .post(
            &format!("/api/v1/dispute-requests/{first}"),
            &json!({"decision": "maybe", "reason": "x"}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("decision")));
    let (_, pending) = helpdesk.get("/api/v1/dispute-requests").await;
    assert_eq!(pending.as_array().map(Vec::len), Some(0));
    let (_, accepted) = helpdesk.get("/api/v1/dispute-requests?state=accepted").await;
    assert_eq!(accepted.as_array().map(Vec::len), Some(2));
    let audit = app.store.audit_entries(0, 10_000).await.expect("audit");
    assert!(
        audit.iter().filter(|e| e.action == "dispute_request.read").count() >= 2,
        "every read is audited"
    );
    assert!(
        audit.iter().all(|e| !e.details.contains("eigenaar@")),
        "no contact details in the audit log"
    );
}

async fn terms_figures_paging_and_version_conflicts(app: &TestApp) {
    let clock = &app.state.as_ref().expect("state").settings.clock;
    let mut ids = Vec::new();
    for n in 0..5 {
        let value = format!("termijn-{n}.nl");
        app.report(&app.police, report_body("webshop", "green", &[&value])).await;
        let (_, dispute) = open(&app.operator, "domain", &value).await;
        assert_eq!(dispute["overdue"], false);
        ids.push(dispute["id"].as_str().expect("id").to_owned());
    }
    let (status, body) = app
        .police
        .post(
            &format!("/api/v1/disputes/{}/decision", ids[0]),
            &json!({"outcome": "rejected", "reason": "klopt niet", "version": 7}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("dispute_changed")), "{body}");
    clock.advance(DAY * 12);
    let (_, queue) = app.police.get("/api/v1/disputes?state=open").await;
    assert!(
        queue
            .as_array()
            .expect("list")
            .iter()
            .all(|d| d["due_soon"] == true && d["overdue"] == false),
        "{queue}"
    );
    let (status, _) = app
        .police
        .post(
            &format!("/api/v1/disputes/{}/decision", ids[0]),
            &json!({"outcome": "rejected", "reason": "klopt niet"}),
        )
        .await;
    assert_eq!(status, 200);
    clock.advance(DAY * 3);
    let (_, queue) = app.police.get("/api/v1/disputes?state=open&limit=2").await;
    let page: Vec<&str> = queue.as_array().expect("list").iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(page, [ids[1].as_str(), ids[2].as_str()], "oldest first, paged");
    assert!(queue.as_array().expect("list").iter().all(|d| d["overdue"] == true));
    let (_, next) = app
        .police
        .get(&format!("/api/v1/disputes?state=open&limit=2&after={}", ids[2]))
        .await;
    let page: Vec<&str> = next.as_array().expect("list").iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(page, [ids[3].as_str(), ids[4].as_str()]);
    app.police
        .post(
            &format!("/api/v1/disputes/{}/decision", ids[1]),
            &json!({"outcome": "upheld", "reason": "te laat, maar terecht"}),
        )
        .await;
    let (status, figures) = app.operator.get("/api/v1/disputes/figures").await;
    assert_eq!(status, 200, "{figures}");
    assert_eq!(
        (
            figures["opened"].as_u64(),
            figures["open"].as_u64(),
            figures["overdue"].as_u64(),
            figures["upheld"].as_u64(),
            figures["rejected"].as_u64(),
            figures["decided_late"].as_u64()
        ),
        (Some(5), Some(3), Some(3), Some(1), Some(1), Some(1)),
        "{figures}"
    );
    let median = figures["median_days_to_decision"].as_f64().expect("median");
    assert!((median - 13.5).abs() < 0.1, "days 12 and 15: {median}");
    let (status, _) = app.bank.get("/api/v1/disputes/figures").await;
    assert_eq!(status, 403);
    let (status, own) = app.bank.get("/api/v1/disputes").await;
    assert_eq!(
        (status, own.as_array().map(Vec::len)),
        (200, Some(0)),
        "a bank lists its own disputes: none"
    );
    let (status, _) = app.bank.get("/api/v1/disputes?scope=queue").await;
    assert_eq!(status, 403);
    for bad in ["state=closed", "scope=all", "limit=0", "limit=501"] {
        let (status, body) = app.police.get(&format!("/api/v1/disputes?{bad}")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_parameter")), "{bad}");
    }
    let audit = app.store.audit_entries(0, 10_000).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "dispute.read"), "lists are audited as reads");
    assert!(audit.iter().all(|e| !e.subject.contains("termijn-")), "pseudonyms only");
}

/// Two server nodes on one PostgreSQL: a dispute opened on one answers `disputed` on the other
/// within one change-feed cycle (the default 500 ms; the bound is 1 s), and its decision too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_reaches_a_second_node_within_a_second() {
    use std::sync::Arc;
    let Some(db) = crate::helpers::Db::postgres().await else { return };
    let app = TestApp::spawn(&db).await;
    let mut settings = crate::helpers::test_settings();
    settings.services.feed_interval = vangnet_services::Settings::default().feed_interval;
    let second = vangnet_server::Application::build(settings, Arc::clone(&db.store))
        .await
        .expect("a second node");
    let base = format!("http://{}", second.local_addr());
    let cancel = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(second.run_until_stopped(cancel.clone()));
    let other = app.other_bank.on(base);
    let value = "twee-nodes-webwinkel.nl";
    listed(&app, value).await;
    let status_there = |expected: &'static str| {
        let other = &other;
        async move {
            let started = std::time::Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if other.check(value).await["status"] == expected {
                    return started.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the second node never answered {expected}");
        }
    };
    status_there("reported").await;
    let (status, dispute) = open(&app.police, "domain", value).await;
    assert_eq!(status, 201);
    let took = status_there("disputed").await;
    eprintln!("second node: disputed after {took:?}");
    assert!(took < Duration::from_secs(1), "disputed on the second node after {took:?}");
    let id = dispute["id"].as_str().expect("id");
    let (status, _) = app
        .police
        .post(
            &format!("/api/v1/disputes/{id}/decision"),
            &json!({"outcome": "upheld", "reason": "klopt"}),
        )
        .await;
    assert_eq!(status, 200);
    let took = status_there("not_reported").await;
    eprintln!("second node: cleared after {took:?}");
    assert!(took < Duration::from_secs(1), "cleared on the second node after {took:?}");
    cancel.cancel();
    handle.await.expect("the second node").expect("stops cleanly");
    app.stop().await;
    db.drop().await;
}
