//! `vangnet replay`: send a realistic stream of synthetic payments and calls to a running
//! server, over HTTP or through NATS JetStream, and show the decisions as they come, so the
//! interventions can be watched. Uses the demo partners (a bank and a telecom provider).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;
use vangnet_core::Timestamp;
use vangnet_services::screening::calls::subscriber_ref;
use vangnet_streams::async_nats;

use super::demo_mules::{fan_in_burst, transaction_json};
use crate::DbArgs;
use crate::config::Config;
use crate::synth::{Generator, InterventionEvent, Rng, intervention_events, nl_iban, nl_iban_at};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// `POST /api/v1/payments/score` and `POST /api/v1/calls/events`.
    Http,
    /// `PREFIX.payments.in` and `PREFIX.calls.in` (the server must run `vangnet worker`).
    Nats,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// How many events.
    #[arg(long, default_value_t = 300)]
    events: usize,
    /// How to send them.
    #[arg(long, value_enum, default_value = "http")]
    via: Via,
    /// The server (for `--via http`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Events per second; 0 sends as fast as the server answers.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seed of the synthetic stream (a new seed gives new payment ids).
    #[arg(long)]
    seed: Option<u64>,
    /// Print every decision, not only the ones that are not `allow`.
    #[arg(long)]
    all: bool,
}

fn summary(kind: &str, decision: &Value) -> String {
    let reasons: Vec<&str> = decision["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default();
    let id = decision["id"].as_str().or_else(|| decision["call_id"].as_str()).unwrap_or("?");
    format!(
        "{kind:<8} {id:<28} {:<6} {}",
        decision["decision"].as_str().unwrap_or("error"),
        if reasons.is_empty() {
            String::new()
        } else {
            format!("({})", reasons.join(", "))
        }
    )
}

pub async fn run(config: &Config, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let partners = super::demo::ensure_partners(store.as_ref()).await?;
    let find = |kind: vangnet_core::PartnerKind| {
        partners
            .iter()
            .find(|(p, _)| p.kind == kind)
            .cloned()
            .context("the demo partners are missing; run `vangnet demo` first")
    };
    let (bank, bank_token) = find(vangnet_core::PartnerKind::Bank)?;
    let (telecom, telecom_token) = find(vangnet_core::PartnerKind::Telecom)?;
    let key = match config.calls.subscriber_key.expose() {
        "" => store
            .setting("subscriber_key")
            .await?
            .context("the server has not made its subscriber key yet; start it once first")?,
        k => k.to_owned(),
    };
    let mules = Generator::new(2026, Timestamp::now()).mule_ibans().to_vec();
    let seed = args.seed.unwrap_or_else(|| Timestamp::now().millis().unsigned_abs());
    let mut events = intervention_events(seed, args.events, &mules, &|e164| subscriber_ref(key.as_bytes(), e164));
    // A live money-mule fan-in: the bank's customers pay one account within four hours, which
    // passes the money on; then one more customer tries to pay it (the first event below).
    let codes: Vec<String> = store
        .pnbf_bank_codes()
        .await?
        .into_iter()
        .filter(|(_, seq)| *seq == bank.seq)
        .map(|(code, _)| code)
        .collect();
    let mut rng = Rng::new(seed ^ 0x6d75_6c65);
    let (mule, burst) = fan_in_burst(
        &mut rng,
        &format!("replay-{seed}-"),
        12,
        &codes,
        Timestamp::now().plus_millis(-3_600_000),
        4,
    )?;
    let batch = serde_json::json!({"transactions": burst.iter().map(transaction_json).collect::<Vec<_>>()});
    let payer = match codes.first() {
        Some(code) => nl_iban_at(&mut rng, code),
        None => nl_iban(&mut rng),
    };
    // It takes the place of the last synthetic event, so `--events` stays the count.
    events.truncate(args.events.saturating_sub(1));
    events.insert(
        0,
        InterventionEvent::Payment(serde_json::json!({
            "id": format!("replay-{seed}-to-mule"),
            "payer": {"iban": payer},
            "payee": {"iban": mule, "name": "J. de Vries"},
            "amount": {"value": "95.00", "currency": "EUR"},
            "initiated_at": Timestamp::now().to_rfc3339(),
        })),
    );
    let http = reqwest::Client::new();
    let base = args.url.trim_end_matches('/').to_owned();
    match args.via {
        Via::Http => {
            let response = http
                .post(format!("{base}/api/v1/transactions"))
                .bearer_auth(bank_token.expose())
                .json(&batch)
                .send()
                .await
                .with_context(|| format!("cannot reach {}", args.url))?;
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            println!(
                "money mules: {} transactions in ({} stored): {} customers of {} paid {mule} within four hours; it passed the money on",
                answer["received"],
                answer["stored"],
                burst.len() - 2,
                bank.name
            );
        }
        Via::Nats => {
            let settings = config.stream_settings();
            let js = vangnet_streams::prepare(&settings).await?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Vangnet-Partner", bank.id.as_str());
            js.publish_with_headers(settings.subject("transactions.in"), headers, serde_json::to_vec(&batch)?.into())
                .await
                .context("publish")?
                .await
                .context("JetStream did not store the transactions")?;
            // The worker stores and detects them before the payment events below arrive: they
            // are published after this batch, and the worker answers the batch first.
            tokio::time::sleep(Duration::from_millis(500)).await;
            println!(
                "money mules: {} transactions published to {}",
                burst.len(),
                settings.subject("transactions.in")
            );
        }
    }
    let flags = http
        .get(format!("{base}/api/v1/mules/accounts/{mule}"))
        .bearer_auth(bank_token.expose())
        .send()
        .await
        .with_context(|| format!("cannot reach {}", args.url))?
        .json::<Value>()
        .await
        .unwrap_or(Value::Null);
    let patterns: Vec<String> = flags["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["pattern"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    println!(
        "  flagged: {} (mule score {}); the next payment to it:",
        if patterns.is_empty() {
            "nothing yet".to_owned()
        } else {
            patterns.join(", ")
        },
        flags["score"]
    );
    let gap = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    match args.via {
        Via::Http => {
            for (n, event) in events.iter().enumerate() {
                let (kind, path, token, body) = match event {
                    InterventionEvent::Payment(b) => ("payment", "/api/v1/payments/score", &bank_token, b),
                    InterventionEvent::Call(b) => ("call", "/api/v1/calls/events", &telecom_token, b),
                };
                let response = http
                    .post(format!("{base}{path}"))
                    .bearer_auth(token.expose())
                    .json(body)
                    .send()
                    .await
                    .with_context(|| format!("cannot reach {}", args.url))?;
                let decision: Value = response.json().await.unwrap_or(Value::Null);
                let outcome = decision["decision"].as_str().unwrap_or("error").to_owned();
                if args.all || outcome != "allow" {
                    println!("{}", summary(kind, &decision));
                }
                *counts.entry(format!("{kind} {outcome}")).or_default() += 1;
                if let Some(gap) = gap {
                    let due = started + gap * u32::try_from(n + 1).unwrap_or(u32::MAX);
                    tokio::time::sleep_until(due.into()).await;
                }
            }
        }
        Via::Nats => {
            let settings = config.stream_settings();
            let js = vangnet_streams::prepare(&settings).await?;
            let client = async_nats::connect(&settings.url).await.context("cannot connect to NATS")?;
            let mut decisions = client
                .subscribe(settings.subject("decisions.>"))
                .await
                .context("cannot subscribe")?;
            for (n, event) in events.iter().enumerate() {
                let (subject, partner, body) = match event {
                    InterventionEvent::Payment(b) => (settings.subject("payments.in"), &bank.id, b),
                    InterventionEvent::Call(b) => (settings.subject("calls.in"), &telecom.id, b),
                };
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Vangnet-Partner", partner.as_str());
                js.publish_with_headers(subject, headers, serde_json::to_vec(body)?.into())
                    .await
                    .context("publish")?
                    .await
                    .context("JetStream did not store the event")?;
                if let Some(gap) = gap {
                    let due = started + gap * u32::try_from(n + 1).unwrap_or(u32::MAX);
                    tokio::time::sleep_until(due.into()).await;
                }
            }
            use futures_util::StreamExt;
            let mut received = 0;
            while received < events.len() {
                let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(10), decisions.next()).await else {
                    eprintln!("no decision for 10 s; is `vangnet worker` running?");
                    break;
                };
                let kind = if message.subject.ends_with("payments") {
                    "payment"
                } else if message.subject.ends_with("calls") {
                    "call"
                } else {
                    continue;
                };
                received += 1;
                let decision: Value = serde_json::from_slice(&message.payload).unwrap_or(Value::Null);
                let outcome = decision["decision"].as_str().unwrap_or("error").to_owned();
                if args.all || outcome != "allow" {
                    println!("{}", summary(kind, &decision));
                }
                *counts.entry(format!("{kind} {outcome}")).or_default() += 1;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!();
    println!("{} events in {elapsed:.1} s:", events.len());
    for (what, n) in &counts {
        println!("  {what:<16} {n}");
    }
    Ok(ExitCode::SUCCESS)
}
