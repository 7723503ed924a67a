//! `vangnet serve`: run the server until SIGTERM or Ctrl-C; with `--workers` (or as `vangnet
//! worker`) also the stream workers, which share the server's state (the call state above all,
//! so the on-call signal answers for calls that came in over NATS).

use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vangnet_server::{Application, shutdown_signal};
use vangnet_store::describe_url;

use crate::config::Config;

pub async fn run(config: &Config, workers: bool) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    config.ensure_naw_key()?;
    let app = Application::build(config.settings()?, store)
        .await
        .context("the server could not start")?;
    tracing::info!(address = %app.local_addr(), database = %describe_url(&config.db), "serving");
    let shutdown = shutdown_signal();
    let streams = if workers {
        let settings = config.stream_settings();
        // Connect and create the streams before saying we serve, so a missing broker is an
        // error at start, not a silent gap.
        vangnet_streams::prepare(&settings)
            .await
            .context("the stream workers could not start")?;
        eprintln!(
            "Stream workers: {} ({}.payments.in, {}.calls.in)",
            settings.url, settings.prefix, settings.prefix
        );
        let stop = CancellationToken::new();
        let task = tokio::spawn(vangnet_streams::run(app.services().clone(), settings, stop.clone()));
        let on_shutdown = shutdown.clone();
        tokio::spawn(async move {
            on_shutdown.cancelled().await;
            stop.cancel();
        });
        Some(task)
    } else {
        None
    };
    eprintln!("Vangnet is serving on http://{} (Ctrl-C to stop)", app.local_addr());
    let served = app.run_until_stopped(shutdown).await;
    if let Some(task) = streams {
        task.await
            .context("the stream workers panicked")?
            .context("the stream workers stopped with an error")?;
    }
    served.context("the server stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}
