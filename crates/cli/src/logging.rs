//! Structured logs on stderr: text for people, JSON for collectors. `RUST_LOG` overrides the
//! configured filter.

use tracing_subscriber::EnvFilter;

use crate::config::Config;

pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        // PostgreSQL's notices ("relation already exists, skipping") are not news to an operator.
        .or_else(|_| EnvFilter::try_new(format!("{},sqlx::postgres::notice=warn,async_nats=warn", config.log_level)))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if config.log_format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    if result.is_err() {
        // A subscriber is already installed (tests run several commands in one process).
    }
}
