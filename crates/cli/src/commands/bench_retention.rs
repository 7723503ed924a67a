//! `vangnet bench retention`: the retention sweep over N reports (reports deleted per second),
//! and the p99 of `POST /api/v1/checks` on the same server while the sweep runs, beside the
//! p99 of the same load without it, in one run (BENCHMARKS.md, benchmark 10).
//!
//! A fresh SQLite registry of N reports received three years ago (two distinct indicators each)
//! is made in a scratch directory; the server runs in this process over it; a load of checks
//! (concurrent clients, each waiting for its answer) runs first alone and then during the sweep.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use vangnet_core::Timestamp;

use super::{Load, http_load, print_load};

const DAY: i64 = 86_400_000;

/// `clients` concurrent clients checking one value each until `until` says stop.
async fn load(url: String, token: String, clients: usize, until: impl Fn() -> bool + Send + Sync + 'static) -> Load {
    http_load(
        clients,
        move |http, c| {
            http.post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(format!("{{\"indicators\":[{{\"value\":\"shop-bench-{c}.nl\"}}]}}"))
        },
        until,
    )
    .await
}

pub async fn run(reports: u64, clients: usize, baseline_secs: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("vangnet-bench-retention-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("a scratch directory")?;
    let path = dir.join("retention-bench.db");
    let url = path.display().to_string();
    // Seed: N reports received three years ago, made in bulk mode.
    let seeded = Instant::now();
    let received = Timestamp::now().plus_millis(-3 * 365 * DAY);
    super::seed_pair_reports(
        &url,
        reports,
        received,
        Some("Synthetic report for the retention benchmark."),
        "seeding reports received three years ago",
    )
    .await?;
    println!("seeded {reports} reports in {:.1} s", seeded.elapsed().as_secs_f64());
    // The server over it, in this process, with the checking partner's token.
    let store = vangnet_store::open(&url).await?;
    let (mut settings, secret) = super::bench_server(store.as_ref()).await?;
    settings.services.retention_interval = Duration::from_secs(86_400);
    let app = vangnet_server::Application::build(settings, Arc::clone(&store)).await?;
    let check_url = format!("http://{}/api/v1/checks", app.local_addr());
    let services = app.services().clone();
    let cancel = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(cancel.clone()));
    // The load alone.
    let deadline = Instant::now() + Duration::from_secs(baseline_secs);
    let alone = load(check_url.clone(), secret.clone(), clients, move || Instant::now() >= deadline).await;
    // The load during the sweep, which starts once the load runs and ends it.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let during = tokio::spawn(load(check_url, secret, clients, move || {
        flag.load(std::sync::atomic::Ordering::Relaxed)
    }));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let totals = services.sweep_retention().await?;
    let took = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let during = during.await?;
    println!(
        "sweep: {} of {} reports deleted in {took:.1} s = {:.0} reports/s",
        totals.deleted,
        totals.examined,
        totals.deleted as f64 / took.max(1e-9)
    );
    print_load("checks without the sweep", "checks", &alone);
    print_load("checks during the sweep", "checks", &during);
    drop(services);
    cancel.cancel();
    let _ = server.await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
