//! Structured logs on stderr: text for people, JSON for collectors. `RUST_LOG` overrides the
//! configured filter. Text is coloured only on a terminal (and never with `NO_COLOR` set), so
//! a log file holds no escape codes.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::Config;

pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        // PostgreSQL's notices ("relation already exists, skipping") are not news to an operator.
        .or_else(|_| EnvFilter::try_new(format!("{},sqlx::postgres::notice=warn,async_nats=warn", config.log_level)))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    let result = if config.log_format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    if result.is_err() {
        // A subscriber is already installed (tests run several commands in one process).
    }
}
