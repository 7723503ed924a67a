//! `vangnet bench`: measure the hot paths in-process, beside a plain baseline from the same
//! run. BENCHMARKS.md records the figures and how to reproduce them.

use std::collections::HashSet;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Subcommand};
use vangnet_core::index::{IndicatorIndex, ReportFacts};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, Tlp};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_core::{Currency, Money, Timestamp};
use vangnet_server::wire::CheckResult;

use crate::config::Config;
use crate::synth::{Rng, foreign_iban, nl_iban, nl_mobile};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Batch check of raw, mixed, un-normalised values against an in-memory registry, on one core.
    Check {
        /// Indicators in the registry.
        #[arg(long, default_value_t = 1_000_000)]
        indicators: u64,
        /// Raw values per batch.
        #[arg(long, default_value_t = 100_000)]
        values: usize,
        /// Share of values that are in the registry.
        #[arg(long, default_value_t = 0.1)]
        hit_ratio: f64,
        /// Timed repetitions; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

pub async fn run(_config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Check {
            indicators,
            values,
            hit_ratio,
            runs,
        } => {
            tokio::task::spawn_blocking(move || bench_check(indicators, values, hit_ratio, runs)).await??;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A canonical-looking indicator of a mixed kind, and how a person might write it.
fn sample(rng: &mut Rng, n: u64) -> (IndicatorKind, String, String) {
    match rng.below(10) {
        0..=3 => {
            let iban = if rng.chance(0.9) { nl_iban(rng) } else { foreign_iban(rng) };
            let written = iban
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            (IndicatorKind::Iban, iban, written)
        }
        4..=6 => {
            let mobile = nl_mobile(rng);
            let written = format!("{}-{}", &mobile[..2], &mobile[2..]);
            (IndicatorKind::Phone, mobile, written)
        }
        7 => {
            let domain = format!("shop-{n}-deals.nl");
            (IndicatorKind::Domain, domain.clone(), format!("www.{}", domain.to_uppercase()))
        }
        8 => {
            let url = format!("https://pay-{n}.example-shop.com/checkout?order={}", rng.digits(6));
            (IndicatorKind::Url, url.clone(), url.replace("https://pay", "https://PAY"))
        }
        _ => {
            let email = format!("verkoper{n}@gmail.com");
            (
                IndicatorKind::Email,
                email.clone(),
                format!(" {}", email.replace("gmail.com", "Gmail.COM")),
            )
        }
    }
}

fn bench_check(indicators: u64, values: usize, hit_ratio: f64, runs: usize) -> anyhow::Result<()> {
    let mut rng = Rng::new(42);
    let now = Timestamp::now();
    eprintln!("building a registry of {indicators} indicators …");
    let mut index = IndicatorIndex::with_capacity(indicators as usize);
    let mut registry_written = Vec::with_capacity((values as f64 * hit_ratio) as usize + 1);
    let mut baseline: HashSet<String> = HashSet::with_capacity(indicators as usize);
    let hits_wanted = (values as f64 * hit_ratio) as usize;
    for n in 0..indicators {
        let (kind, canonical, written) = sample(&mut rng, n);
        let canonical = Indicator::parse(Some(kind), &canonical)
            .map(|i| i.canonical().to_owned())
            .unwrap_or(canonical);
        let facts = ReportFacts {
            report: n as u32,
            partner: (n % 7) as u32 + 1,
            source: PartnerKind::ALL[(n % 7) as usize],
            fraud_type: FraudType::ALL[(n % 10) as usize],
            tlp: if n % 3 == 0 { Tlp::Green } else { Tlp::Amber },
            occurred_at: now.plus_millis(-((n % 400) as i64) * 86_400_000),
            amount: Some(Money::from_minor(25_000, Currency::EUR)),
            aangifte: n % 2 == 0,
            retracted: false,
        };
        let key = index.key(kind, &canonical);
        index.add(key, &facts);
        baseline.insert(canonical);
        if registry_written.len() < hits_wanted && rng.chance(hits_wanted as f64 / indicators as f64 * 2.0) {
            registry_written.push(written);
        }
    }
    let mut batch: Vec<String> = Vec::with_capacity(values);
    let mut fresh = Rng::new(7);
    for i in 0..values {
        if i % (values / hits_wanted.max(1)).max(1) == 0 && !registry_written.is_empty() {
            batch.push(registry_written[i % registry_written.len()].clone());
        } else {
            batch.push(sample(&mut fresh, indicators + i as u64).2);
        }
    }
    let viewer = Viewer {
        partner: 1,
        kind: PartnerKind::Bank,
    };
    let policy = ScoringPolicy::default();

    let time = |f: &mut dyn FnMut() -> usize| -> (f64, usize) {
        let mut rates = Vec::with_capacity(runs);
        let mut found = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            found = f();
            rates.push(values as f64 / started.elapsed().as_secs_f64());
        }
        rates.sort_by(f64::total_cmp);
        (rates[rates.len() / 2], found)
    };
    let (baseline_rate, baseline_found) = time(&mut || batch.iter().filter(|v| baseline.contains(v.as_str())).count());
    let (normalise_rate, _) = time(&mut || batch.iter().filter(|v| black_box(Indicator::parse(None, v)).is_ok()).count());
    let (check_rate, check_found) = time(&mut || {
        let mut hits = 0;
        for v in &batch {
            if let Ok(indicator) = Indicator::parse(None, v) {
                let view = index.view(index.key_of(&indicator), &viewer, now, &policy);
                let result = CheckResult::from_view(&indicator, &view);
                if result.status != "not_reported" {
                    hits += 1;
                }
                black_box(result);
            }
        }
        hits
    });
    println!(
        "registry: {} indicators; batch: {values} raw values, {check_found} found",
        index.len()
    );
    println!(
        "baseline (exact string match, no normalisation): {:>12.0} values/s ({baseline_found} found)",
        baseline_rate
    );
    println!("normalisation and kind detection only:           {:>12.0} values/s", normalise_rate);
    println!("full check (normalise, look up, score, result):  {:>12.0} values/s", check_rate);
    Ok(())
}
