//! Networks from the reports through the real server: links from reports naming indicators
//! together (never a URL and its own domain), TLP on every edge, retraction taking a link
//! away, bounds, writes made elsewhere arriving through the change feed, and the audit.

use std::time::Duration;

use serde_json::{Value, json};
use vangnet_core::report::{FraudType, IndicatorRole};

use crate::api_tests;
use crate::helpers::{TestApp, report_body, report_now};
use crate::web::console_sign_in;

api_tests! {
    reports_link_what_they_name_together_under_tlp,
    bounds_and_bad_parameters,
    links_made_elsewhere_arrive_through_the_change_feed,
    the_console_draws_the_network_with_its_tables,
}

const IBAN: &str = "NL91ABNA0417164300";
const PHONE: &str = "+31612345678";
const SHOP: &str = "https://nep-sneakers.shop/bestel";
const IBAN_2: &str = "NL20INGB0001234567";

fn values(network: &Value) -> Vec<String> {
    network["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["value"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn reports_link_what_they_name_together_under_tlp(app: &TestApp) {
    app.report(&app.police, report_body("marketplace", "green", &[IBAN, PHONE])).await;
    app.report(&app.police, report_body("webshop", "green", &[PHONE, SHOP])).await;
    let red = app
        .report(&app.other_bank, report_body("marketplace", "red", &[IBAN, IBAN_2]))
        .await;
    let (status, network) = app.bank.get(&format!("/api/v1/networks/iban/{IBAN}")).await;
    assert_eq!(status, 200, "{network}");
    let seen = values(&network);
    assert_eq!(seen[0], IBAN, "the indicator asked about first");
    assert!(seen.contains(&"+31612345678".to_owned()), "{network}");
    assert!(
        seen.contains(&"https://nep-sneakers.shop/bestel".to_owned()),
        "two links away: {network}"
    );
    assert!(
        !seen.iter().any(|v| v == "nep-sneakers.shop"),
        "a URL and its own domain are no link: {network}"
    );
    assert!(!seen.contains(&IBAN_2.to_owned()), "the red report is Bank B's alone: {network}");
    assert_eq!(network["truncated"], false);
    assert_eq!(network["nodes"][0]["status"], "reported");
    assert_eq!(network["nodes"][1]["depth"], 1);
    let edge = &network["edges"][0];
    assert_eq!(
        (edge["from"].as_u64(), edge["to"].as_u64(), edge["reports"].as_u64()),
        (Some(0), Some(1), Some(1)),
        "{network}"
    );
    assert!(edge["last_seen"].as_str().is_some());
    // The red report's author sees its link.
    let (_, theirs) = app.other_bank.get(&format!("/api/v1/networks/iban/{IBAN}")).await;
    assert!(values(&theirs).contains(&IBAN_2.to_owned()), "{theirs}");
    // Retracted, the link is gone for its author too.
    let id = red["id"].as_str().expect("id");
    let (status, _) = app
        .other_bank
        .post(&format!("/api/v1/reports/{id}/retract"), &json!({"reason": "entered in error"}))
        .await;
    assert_eq!(status, 200);
    let (_, after) = app.other_bank.get(&format!("/api/v1/networks/iban/{IBAN}")).await;
    assert!(!values(&after).contains(&IBAN_2.to_owned()), "{after}");
    // Depth 1: the shop is two links away.
    let (_, near) = app.bank.get(&format!("/api/v1/networks/iban/{IBAN}?depth=1")).await;
    assert_eq!(values(&near).len(), 2, "{near}");
    // Audited for every indicator shown (the audit sink writes in the background: up to 5 s).
    let (mut reads, mut sights) = (0, 0);
    for _ in 0..100 {
        let entries = app.store.audit_entries(0, 10_000).await.expect("audit");
        reads = entries.iter().filter(|e| e.action == "network.read").count();
        sights = entries
            .iter()
            .filter(|e| e.action == "check.hits" && e.details.contains("\"via\":\"network\""))
            .count();
        if reads >= 3 && sights >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reads >= 3, "one entry per network read: {reads}");
    assert!(sights >= 1, "the other indicators shown are counted");
}

async fn bounds_and_bad_parameters(app: &TestApp) {
    // A hub: one IBAN named with thirty phone numbers.
    for i in 0..30 {
        app.report(
            &app.police,
            report_body("marketplace", "green", &[IBAN, &format!("+316{:08}", 10_000_000 + i)]),
        )
        .await;
    }
    let (status, few) = app.bank.get(&format!("/api/v1/networks/iban/{IBAN}?max_nodes=10")).await;
    assert_eq!(status, 200);
    assert_eq!(few["nodes"].as_array().map(Vec::len), Some(10));
    assert_eq!(few["truncated"], true);
    for (query, field) in [
        ("depth=0", "depth"),
        ("depth=9", "depth"),
        ("max_nodes=201", "max_nodes"),
        ("max_nodes=0", "max_nodes"),
    ] {
        let (status, body) = app.bank.get(&format!("/api/v1/networks/iban/{IBAN}?{query}")).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some(field)), "{query}: {body}");
    }
    let (status, body) = app.bank.get("/api/v1/networks/iban/NL00NOPE").await;
    assert_eq!(status, 422, "{body}");
    let (status, alone) = app.bank.get("/api/v1/networks/phone/%2B31612999999").await;
    assert_eq!(status, 200);
    assert_eq!(
        alone["nodes"].as_array().map(Vec::len),
        Some(1),
        "an unknown value is a network of one"
    );
    assert_eq!(alone["nodes"][0]["status"], "not_reported");
}

async fn links_made_elsewhere_arrive_through_the_change_feed(app: &TestApp) {
    let now = vangnet_core::Timestamp::now();
    let report = report_now(
        FraudType::FriendInNeed,
        &[(IBAN_2, IndicatorRole::Payee), ("+31687654321", IndicatorRole::Contact)],
    );
    // Written straight to the store, as another node would.
    app.store
        .insert_reports(&app.police.partner, &[report], "test", now)
        .await
        .expect("stored");
    let mut seen = Vec::new();
    for _ in 0..100 {
        let (_, network) = app.bank.get(&format!("/api/v1/networks/iban/{IBAN_2}")).await;
        seen = values(&network);
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, vec![IBAN_2.to_owned(), "+31687654321".to_owned()], "within two seconds");
}

async fn the_console_draws_the_network_with_its_tables(app: &TestApp) {
    app.report(&app.police, report_body("marketplace", "green", &[IBAN, PHONE])).await;
    let mut bank = console_sign_in(app, &app.bank.token).await;
    let record = bank.get(&format!("/partner/zoeken?waarde={IBAN}")).await;
    assert!(record.body.contains("id=\"network-link\""), "the record links to its network");
    let page = bank.get(&format!("/partner/netwerk?soort=iban&waarde={IBAN}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<svg") && page.body.contains("<desc id=\"network-d\">"),
        "an SVG with a description"
    );
    assert!(
        page.body.contains("id=\"network-nodes\"") && page.body.contains("id=\"network-links\""),
        "and the tables"
    );
    assert!(
        page.body.contains("/partner/zoeken?soort=phone&#38;waarde=%2B31612345678"),
        "each node links to its record"
    );
    assert!(page.body.contains("gemeld"), "statuses in Dutch");
    let english = bank.get(&format!("/partner/netwerk?soort=iban&waarde={IBAN}&lang=en")).await;
    assert!(english.body.contains("Reports together"), "English labels");
    let bad = bank.get("/partner/netwerk?waarde=%3F%3F").await;
    assert!(bad.body.contains("id=\"waarde-error\""));
}
