//! `vangnet bench`: measure the hot paths in-process, beside a plain baseline from the same
//! run. BENCHMARKS.md records the figures and how to reproduce them.

use std::collections::HashSet;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use vangnet_core::index::{IndicatorIndex, ReportFacts};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, Tlp};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_core::{Currency, Money, Timestamp};
use vangnet_wire::registry::CheckResult;

use crate::config::Config;
use crate::synth::{Rng, foreign_iban, nl_iban, nl_mobile};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Write synthetic reports as JSON Lines, for the import and memory benchmarks.
    Generate {
        /// How many reports.
        #[arg(long, default_value_t = 1_000_000)]
        reports: u64,
        /// Give every report this many indicators of its own (IBAN, phone, domain, e-mail,
        /// URL in turn) instead of the realistic mix with recurring mule accounts.
        #[arg(long)]
        unique: Option<u32>,
        /// Seed of the realistic mix.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
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
    /// End to end over NATS JetStream: publish payment events, time their decisions.
    Stream {
        /// Payment events to publish.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Events offered per second.
        #[arg(long, default_value_t = 20_000.0)]
        rate: f64,
        /// Relay events to the decisions subject without deciding them: the broker's own cost.
        #[arg(long)]
        baseline: bool,
    },
    /// The rate limiter's cost per take, beside governor's keyed limiter, and its key bound.
    Limits {
        /// Takes per thread and row.
        #[arg(long, default_value_t = 2_000_000)]
        takes: usize,
        /// Timed repetitions; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// The retention sweep over N reports past their term, and the p99 of checks during it
    /// beside the p99 without it, against one server in this process.
    Retention {
        /// Reports to seed (received three years ago) and sweep.
        #[arg(long, default_value_t = 1_000_000)]
        reports: u64,
        /// Concurrent clients checking while the sweep runs (each waits for its answer).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of the load without the sweep.
        #[arg(long, default_value_t = 20)]
        baseline_secs: u64,
    },
    /// The money-mule detectors over synthetic AMLworld-form transactions, on one core,
    /// beside reading and parsing the same CSV.
    Mules {
        /// Transactions to generate and run.
        #[arg(long, default_value_t = 5_000_000)]
        transactions: u64,
        /// Timed repetitions; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// `GET /api/v1/networks/…` over HTTP for a 50-node network on a registry of about a
    /// million indicators, beside the record read of the same indicator, in alternating phases.
    Network {
        /// Reports of two indicators each (about twice as many indicators).
        #[arg(long, default_value_t = 500_000)]
        reports: u64,
        /// Planted networks of 51 indicators.
        #[arg(long, default_value_t = 20)]
        networks: u64,
        /// Concurrent clients (each waits for its answer).
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Seconds per phase.
        #[arg(long, default_value_t = 10)]
        secs: u64,
        /// Baseline-then-network rounds.
        #[arg(long, default_value_t = 2)]
        rounds: usize,
    },
    /// Payment decisions (JSON), pacs.008 parsing and call events, in-process on one core.
    Screening {
        /// IBANs in the registry, and payer profiles.
        #[arg(long, default_value_t = 1_000_000)]
        indicators: u64,
        /// Payment events (and about as many call events) per round.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Timed repetitions; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

pub async fn run(config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Generate {
            reports,
            unique,
            seed,
            out,
        } => {
            tokio::task::spawn_blocking(move || generate(reports, unique, seed, &out)).await??;
        }
        BenchCommand::Check {
            indicators,
            values,
            hit_ratio,
            runs,
        } => {
            tokio::task::spawn_blocking(move || bench_check(indicators, values, hit_ratio, runs)).await??;
        }
        BenchCommand::Stream { events, rate, baseline } => super::bench_screening::stream(config, events, rate, baseline).await?,
        BenchCommand::Limits { takes, runs } => {
            tokio::task::spawn_blocking(move || super::bench_limits::run(takes, runs)).await??;
        }
        BenchCommand::Retention {
            reports,
            clients,
            baseline_secs,
        } => super::bench_retention::run(reports, clients, baseline_secs).await?,
        BenchCommand::Network {
            reports,
            networks,
            clients,
            secs,
            rounds,
        } => super::bench_network::run(reports, networks, clients, secs, rounds).await?,
        BenchCommand::Mules { transactions, runs } => {
            let thresholds = config.mules.thresholds()?;
            tokio::task::spawn_blocking(move || super::bench_mules::run(&thresholds, transactions, runs)).await??;
        }
        BenchCommand::Screening { indicators, events, runs } => {
            tokio::task::spawn_blocking(move || super::bench_screening::run(indicators, events, runs)).await??;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(reports: u64, unique: Option<u32>, seed: u64, out: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let bar = super::progress(Some(reports), "generating reports");
    let now = Timestamp::now();
    let mut generator = crate::synth::Generator::new(seed, now);
    let mut next_indicator = 0u64;
    for n in 0..reports {
        let mut report = generator.report(n, "bench-");
        if let Some(k) = unique {
            report.indicators = (0..k)
                .map(|_| {
                    next_indicator += 1;
                    crate::synth::unique_indicator(next_indicator)
                })
                .collect();
        }
        serde_json::to_writer(&mut writer, &report.to_json())?;
        writer.write_all(b"\n")?;
        if n % 10_000 == 0 {
            bar.set_position(n);
        }
    }
    writer.flush()?;
    bar.finish_and_clear();
    println!("Wrote {reports} reports to {}", out.display());
    Ok(())
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

/// One timed stage of the check benchmark; returns how many values it found.
type Stage<'a> = Box<dyn FnMut() -> usize + 'a>;

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
            mule: false,
            submitter: 0,
            review: vangnet_core::index::CitizenReview::Unverified,
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

    // The stages run in interleaved rounds, so a slow spell of the machine hits all of them
    // alike; each stage's median round is reported.
    let mut stages: Vec<(&str, Stage<'_>)> = vec![
        (
            "baseline",
            Box::new(|| batch.iter().filter(|v| baseline.contains(v.as_str())).count()),
        ),
        (
            "normalise",
            Box::new(|| batch.iter().filter(|v| black_box(Indicator::parse(None, v)).is_ok()).count()),
        ),
        (
            "lookup",
            Box::new(|| {
                let mut hits = 0;
                for v in &batch {
                    if let Ok(indicator) = Indicator::parse(None, v) {
                        let view = index.view(index.key_of(&indicator), &viewer, now, &policy);
                        hits += usize::from(view.reports > 0);
                        black_box(view);
                    }
                }
                hits
            }),
        ),
        (
            "check",
            Box::new(|| {
                let mut hits = 0;
                for v in &batch {
                    if let Ok(indicator) = Indicator::parse(None, v) {
                        let view = index.view(index.key_of(&indicator), &viewer, now, &policy);
                        let result = CheckResult::from_view(&indicator, &view);
                        hits += usize::from(result.status != "not_reported");
                        black_box(result);
                    }
                }
                hits
            }),
        ),
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); stages.len()];
    let mut found = vec![0usize; stages.len()];
    for _ in 0..runs.max(1) {
        for (i, (_, stage)) in stages.iter_mut().enumerate() {
            let started = Instant::now();
            found[i] = stage();
            rates[i].push(values as f64 / started.elapsed().as_secs_f64());
        }
    }
    drop(stages);
    let median = |r: &mut Vec<f64>| {
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let (baseline_rate, baseline_found) = (median(&mut rates[0]), found[0]);
    let normalise_rate = median(&mut rates[1]);
    let lookup_rate = median(&mut rates[2]);
    let (check_rate, check_found) = (median(&mut rates[3]), found[3]);
    println!(
        "registry: {} indicators; batch: {values} raw values of mixed kinds, {check_found} in the registry",
        index.len()
    );
    println!("{:<58} {:>12}", "stage (one core, median of runs)", "values/s");
    println!(
        "{:<58} {:>12.0}   ({baseline_found} found)",
        "baseline: exact string match, no normalisation", baseline_rate
    );
    println!("{:<58} {:>12.0}", "normalisation and kind detection", normalise_rate);
    println!("{:<58} {:>12.0}", "normalise + look up + score (RecordView)", lookup_rate);
    println!("{:<58} {:>12.0}", "full check: the above + the API result with reasons", check_rate);
    for kind in IndicatorKind::ALL {
        let of_kind: Vec<&String> = batch
            .iter()
            .filter(|v| Indicator::parse(None, v).map(|i| i.kind()) == Ok(kind))
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        let mut rates = Vec::new();
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            for v in &of_kind {
                black_box(Indicator::parse(None, v).ok());
            }
            rates.push(of_kind.len() as f64 / started.elapsed().as_secs_f64());
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "{:<58} {:>12.0}",
            format!("  normalisation of {kind} values only ({})", of_kind.len()),
            rates[rates.len() / 2]
        );
    }
    Ok(())
}
