//! `vangnet serve`: run the server until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use anyhow::Context;
use vangnet_server::{Application, shutdown_signal};
use vangnet_store::describe_url;

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let app = Application::build(config.settings()?, store)
        .await
        .context("the server could not start")?;
    tracing::info!(address = %app.local_addr(), database = %describe_url(&config.db), "serving");
    eprintln!("Vangnet is serving on http://{} (Ctrl-C to stop)", app.local_addr());
    app.run_until_stopped(shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}
