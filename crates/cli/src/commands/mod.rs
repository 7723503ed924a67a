//! The commands, one module each.

pub mod audit;
pub mod bench;
pub mod bench_limits;
mod bench_mules;
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

/// The most unreadable lines of an input file a command names one by one (the rest are
/// counted).
pub const NAMED_ERRORS: u64 = 20;
