//! The commands, one module each.

pub mod audit;
pub mod bench;
pub mod bench_limits;
mod bench_mules;
mod bench_network;
pub mod bench_retention;
pub mod bench_screening;
pub mod check;
pub mod demo;
mod demo_citizens;
mod demo_disputes;
pub(crate) mod demo_mules;
mod demo_pnbf;
pub mod import;
pub mod mules;
mod mules_evaluate;
pub mod partner;
pub mod pnbf;
pub mod replay;
pub mod retention;
pub mod serve;
pub mod subject;

use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vangnet_store::{Store, describe_url};

use crate::config::Config;

/// Opens (creating and migrating) the configured database.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    vangnet_store::open(&config.db)
        .await
        .with_context(|| format!("cannot open the database {}", describe_url(&config.db)))
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub fn progress(len: Option<u64>, what: &str) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let template = if len.is_some() {
        "{spinner} {msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)"
    } else {
        "{spinner} {msg} {pos} ({per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// The process's peak resident memory in KiB (Linux: VmHWM).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A reader that moves a progress bar by the bytes read.
pub struct ProgressRead<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R> ProgressRead<R> {
    pub fn new(inner: R, len: Option<u64>, what: &str) -> ProgressRead<R> {
        let bar = progress(len, what);
        ProgressRead { inner, bar }
    }
}

impl<R: std::io::Read> std::io::Read for ProgressRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        if n == 0 {
            self.bar.finish_and_clear();
        }
        Ok(n)
    }
}

/// The median of the timings (or rates) of a benchmark's runs.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Latencies of one phase of an HTTP load.
#[derive(Debug)]
pub struct Load {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50: std::time::Duration,
    pub p99: std::time::Duration,
}

/// The `p` quantile of sorted latencies (nearest rank).
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    if sorted.is_empty() {
        return std::time::Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// `clients` concurrent clients, each sending the request `make(http, client number)` and
/// waiting for its answer, until `until` says stop; a non-success answer counts as an error.
pub async fn http_load(
    clients: usize,
    make: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
    until: impl Fn() -> bool + Send + Sync + 'static,
) -> Load {
    let http = reqwest::Client::new();
    let (make, until) = (std::sync::Arc::new(make), std::sync::Arc::new(until));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, make, until) = (http.clone(), std::sync::Arc::clone(&make), std::sync::Arc::clone(&until));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            while !until() {
                let sent = std::time::Instant::now();
                match make(&http, c).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        }
    }
    all.sort_unstable();
    Load {
        requests: all.len(),
        errors,
        seconds: started.elapsed().as_secs_f64(),
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
    }
}

/// A synthetic marketplace report under TLP green naming `indicators`, made at `at`, for the
/// benchmarks that seed a registry.
pub fn bench_report(
    indicators: Vec<(vangnet_core::Indicator, vangnet_core::report::IndicatorRole)>,
    at: vangnet_core::Timestamp,
    description: Option<&str>,
) -> anyhow::Result<vangnet_core::report::NewReport> {
    use vangnet_core::report::{AgeBand, FraudType, NewReport, ReportDraft, Tlp};
    let draft = ReportDraft {
        external_id: None,
        fraud_type: FraudType::Marketplace,
        channel: None,
        occurred_at: at,
        amount: None,
        aangifte: false,
        victim_age_band: AgeBand::Unknown,
        tlp: Tlp::Green,
        description: description.map(str::to_owned),
        indicators,
    };
    NewReport::new(draft, at).map_err(|e| anyhow::anyhow!("a synthetic report: {e}"))
}

/// Seeds the registry at `url` (bulk mode) with `reports` reports of two indicators of their
/// own each (`synth::unique_indicator`), made at `at` and filed by a police partner `Seed`,
/// with a progress bar saying `label`; returns the store and that partner.
pub async fn seed_pair_reports(
    url: &str,
    reports: u64,
    at: vangnet_core::Timestamp,
    description: Option<&str>,
    label: &'static str,
) -> anyhow::Result<(std::sync::Arc<dyn vangnet_store::Store>, vangnet_store::Partner)> {
    let store = vangnet_store::open_with(url, vangnet_store::Durability::Bulk).await?;
    let token = vangnet_core::token::ApiToken::generate()?;
    let (seed, _) = store
        .create_partner(
            "Seed",
            vangnet_core::PartnerKind::Police,
            &token.digest(),
            "bench",
            "bench",
            vangnet_core::Timestamp::now(),
        )
        .await?;
    let bar = progress(Some(reports), label);
    let (mut next, mut n) = (0u64, 0u64);
    while next < reports {
        let end = (next + 20_000).min(reports);
        let batch = (next..end)
            .map(|_| {
                let indicators = (0..2)
                    .map(|_| {
                        n += 1;
                        let (kind, value, role) = crate::synth::unique_indicator(n);
                        Ok((vangnet_core::Indicator::parse(Some(kind), &value)?, role))
                    })
                    .collect::<Result<Vec<_>, vangnet_core::IndicatorError>>()?;
                bench_report(indicators, at, description)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        store.insert_reports(&seed, &batch, "bench", at).await?;
        next = end;
        bar.set_position(next);
    }
    bar.finish_and_clear();
    Ok((store, seed))
}

/// A bank partner with a fresh token on `store`, and the settings of a benchmark server (a
/// free loopback port, no partner rate limit); returns the settings and the token's secret.
pub async fn bench_server(store: &dyn vangnet_store::Store) -> anyhow::Result<(vangnet_server::Settings, String)> {
    let token = vangnet_core::token::ApiToken::generate()?;
    store
        .create_partner(
            "Bank",
            vangnet_core::PartnerKind::Bank,
            &token.digest(),
            "bench",
            "bench",
            vangnet_core::Timestamp::now(),
        )
        .await?;
    let settings = vangnet_server::Settings {
        http: vangnet_server::HttpSettings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Default::default()
        },
        services: vangnet_services::Settings {
            partner_rate: vangnet_services::Rate::UNLIMITED,
            ..Default::default()
        },
    };
    Ok((settings, token.expose().to_owned()))
}

/// One line of a load's figures.
pub fn print_load(name: &str, what: &str, l: &Load) {
    println!(
        "{name:<34} {:>9.0} {what}/s   p50 {:>8.2} ms   p99 {:>8.2} ms   errors {}",
        l.requests as f64 / l.seconds.max(1e-9),
        l.p50.as_secs_f64() * 1_000.0,
        l.p99.as_secs_f64() * 1_000.0,
        l.errors
    );
}

/// The most unreadable lines of an input file a command names one by one (the rest are
/// counted).
pub const NAMED_ERRORS: u64 = 20;
