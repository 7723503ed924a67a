//! `vangnet bench network`: the latency of `GET /api/v1/networks/{kind}/{value}` over HTTP
//! for a 50-node network on a registry of about a million indicators, beside the record read
//! `GET /api/v1/indicators/{kind}/{value}` of the same indicator (the plain baseline: one index
//! look-up, one store read of its reports, one audit entry), in alternating phases of the same
//! run (BENCHMARKS.md, benchmark 12).
//!
//! A fresh SQLite registry is made in a scratch directory: N reports naming two indicators of
//! their own each (N/2 two-node networks and about N indicators), and `networks` planted
//! networks: a hub IBAN named with 10 phone numbers, each named with 4 e-mail addresses of its
//! own (51 indicators within two links). The server runs in this process over it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use vangnet_core::Timestamp;
use vangnet_core::indicator::Indicator;
use vangnet_core::report::{IndicatorRole, NewReport};

use super::{Load, bench_report, http_load, print_load};

/// The hub IBAN of planted network `i`.
fn hub(i: u64) -> String {
    let bban = format!("KNAB{:010}", 9_000_000 + i);
    let check = vangnet_core::indicator::iban_check_digits("NL", &bban).unwrap_or_default();
    format!("NL{check}{bban}")
}

fn planted(i: u64, at: Timestamp) -> anyhow::Result<Vec<NewReport>> {
    let parse = |v: &str| Indicator::parse(None, v).map_err(|e| anyhow::anyhow!("a synthetic indicator: {e}"));
    let mut out = Vec::new();
    let iban = parse(&hub(i))?;
    for p in 0..10 {
        let phone = parse(&format!("+3162{:07}", i * 10 + p))?;
        out.push(bench_report(
            vec![(iban.clone(), IndicatorRole::Payee), (phone.clone(), IndicatorRole::Seller)],
            at,
            None,
        )?);
        for e in 0..4 {
            let email = parse(&format!("net{i}-{p}-{e}@bench.example"))?;
            out.push(bench_report(
                vec![(phone.clone(), IndicatorRole::Seller), (email, IndicatorRole::Contact)],
                at,
                None,
            )?);
        }
    }
    Ok(out)
}

pub async fn run(reports: u64, networks: u64, clients: usize, secs: u64, rounds: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("vangnet-bench-network-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("a scratch directory")?;
    let url = dir.join("network-bench.db").display().to_string();
    let at = Timestamp::now().plus_millis(-86_400_000);
    let seeded = Instant::now();
    {
        let (store, seed) = super::seed_pair_reports(&url, reports, at, None, "seeding reports of two indicators each").await?;
        for i in 0..networks {
            store.insert_reports(&seed, &planted(i, at)?, "bench", at).await?;
        }
    }
    println!(
        "seeded {reports} reports and {networks} networks of 51 indicators in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let store = vangnet_store::open(&url).await?;
    let (settings, secret) = super::bench_server(store.as_ref()).await?;
    let started = Instant::now();
    let app = vangnet_server::Application::build(settings, Arc::clone(&store)).await?;
    let indicators = app.services().index().len();
    let (components, largest) = app.services().index().components();
    println!(
        "server up in {:.1} s: {indicators} indicators, {components} networks of two or more (largest {largest})",
        started.elapsed().as_secs_f64()
    );
    let base = format!("http://{}", app.local_addr());
    let cancel = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(cancel.clone()));
    let probe = reqwest::Client::new()
        .get(format!("{base}/api/v1/networks/iban/{}?max_nodes=50", hub(0)))
        .bearer_auth(&secret)
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    println!(
        "one answer: {} nodes, {} edges, truncated {}",
        probe["nodes"].as_array().map_or(0, Vec::len),
        probe["edges"].as_array().map_or(0, Vec::len),
        probe["truncated"]
    );
    let phase = |path: &'static str| {
        let (base, secret) = (base.clone(), secret.clone());
        let deadline = Instant::now() + Duration::from_secs(secs);
        http_load(
            clients,
            move |http, c| {
                let iban = hub(c as u64 % networks.max(1));
                let url = match path {
                    "network" => format!("{base}/api/v1/networks/iban/{iban}?max_nodes=50"),
                    _ => format!("{base}/api/v1/indicators/iban/{iban}?limit=50"),
                };
                http.get(url).bearer_auth(&secret)
            },
            move || Instant::now() >= deadline,
        )
    };
    let mut results: Vec<(&str, Load)> = Vec::new();
    for _ in 0..rounds.max(1) {
        results.push(("record read (baseline)", phase("record").await));
        results.push(("network, 50 nodes", phase("network").await));
    }
    for (name, load) in &results {
        print_load(name, "requests", load);
    }
    cancel.cancel();
    let _ = server.await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
