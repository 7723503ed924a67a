//! The demo's citizen reports: reports as citizens file them through the web form, so the
//! helpdesk's and police's triage queue has work in it and partners see how unverified reports
//! show. Some name mule accounts the partners reported too (counted there, without weight);
//! the others name values no partner reported (only a count, until a reviewer verifies them).
//! Made once per database: every report has a fixed reference as its external id.

use anyhow::Context;
use vangnet_core::Timestamp;
use vangnet_store::{CITIZEN_SOURCE_ID, Store};
use vangnet_wire::registry::ReportIn;

/// (days ago, fraud type, amount in euros, value, what the citizen wrote)
const STORIES: &[(i64, &str, Option<&str>, &str, &str)] = &[
    (
        2,
        "marketplace",
        Some("85.00"),
        "",
        "Ik heb een spelcomputer gekocht via Marktplaats en betaald. De verkoper reageert niet meer.",
    ),
    (
        3,
        "marketplace",
        Some("140.00"),
        "",
        "Fiets betaald via een betaalverzoek, daarna was de advertentie weg.",
    ),
    (
        5,
        "friend_in_need",
        Some("950.00"),
        "",
        "Iemand deed zich via WhatsApp voor als mijn dochter met een nieuw nummer en vroeg om een betaling.",
    ),
    (
        1,
        "bankhelpdesk",
        None,
        "+31 6 28 41 93 07",
        "Een man belde namens de bank en zei dat mijn rekening gehackt was. Ik heb opgehangen.",
    ),
    (
        4,
        "phishing",
        None,
        "https://mijn-bank-verificatie.nl/inloggen",
        "Sms over een nieuwe bankpas met een link naar deze site.",
    ),
    (
        6,
        "webshop",
        Some("64.95"),
        "https://goedkope-sneakers-outlet.nl/",
        "Schoenen besteld, nooit geleverd, klantenservice bestaat niet.",
    ),
    (
        8,
        "investment",
        Some("2500.00"),
        "NL81 INGB 0009 2104 58",
        "Via een advertentie met een bekende Nederlander geld gestort op een 'beleggingsrekening'.",
    ),
    (
        9,
        "romance",
        Some("1200.00"),
        "datingcoach.support@outlook.com",
        "Contact via een datingsite, daarna steeds om geld gevraagd voor een vliegticket.",
    ),
];

/// Files the demo's citizen reports once; returns how many were new.
pub async fn ensure(store: &dyn Store, mule_ibans: &[String], anchor: Timestamp) -> anyhow::Result<usize> {
    let source = store
        .partner(CITIZEN_SOURCE_ID)
        .await?
        .context("the citizen source is missing; were the migrations run?")?;
    let mut reports = Vec::with_capacity(STORIES.len());
    for (i, (days, fraud_type, amount, value, text)) in STORIES.iter().enumerate() {
        // The first three name the partners' mule accounts (corroborated); the rest their own value.
        let value = if value.is_empty() {
            mule_ibans.get(i).cloned().context("the demo has mule accounts")?
        } else {
            (*value).to_owned()
        };
        let input = serde_json::json!({
            "external_id": format!("VN-DEMO-{:04}-BURG", i + 1),
            "fraud_type": fraud_type,
            "channel": "other",
            "occurred_at": anchor.plus_millis(-days * 86_400_000).to_rfc3339(),
            "amount": amount.map(|a| serde_json::json!({"value": a, "currency": "EUR"})),
            "aangifte": false,
            "victim_age_band": "unknown",
            "tlp": "green",
            "description": text,
            "indicators": [{"value": value}],
        });
        let input: ReportIn = serde_json::from_value(input).context("a demo citizen report does not match the API")?;
        let report = input
            .into_new("", Timestamp::now())
            .map_err(|e| anyhow::anyhow!("demo citizen report {i} is invalid: {}", e.message))?;
        // One made-up visitor per story (the web form uses an HMAC of the visitor cookie).
        reports.push(report.from_submitter(format!("{:08x}{:056x}", 0xdec0_0000u32 + i as u32, 0)));
    }
    let outcomes = store.insert_reports(&source, &reports, "cli:demo", Timestamp::now()).await?;
    Ok(outcomes
        .iter()
        .filter(|o| matches!(o, vangnet_store::InsertOutcome::Created(_)))
        .count())
}
