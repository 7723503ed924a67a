//! The `vangnet` command line: argument parsing and the commands. `main` only calls [`main`].
//!
//! Output for people goes to stdout (`--json` where a script wants it); logs and progress bars
//! go to stderr, so `vangnet partner add --json` can be piped safely.

mod amlworld;
mod commands;
pub mod config;
mod logging;
pub mod synth;
mod synth_mules;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "vangnet",
    version,
    about = "Vangnet: a shared registry of fraud indicators for police, banks, telecom providers, marketplaces and victim support",
    long_about = "Vangnet lets partners report fraud, check IBANs, phone numbers, web addresses and other indicators against what \
                  others reported, and follow who read what in a tamper-evident audit log.\n\n\
                  Start with `vangnet demo`: it fills a local database with realistic synthetic data and serves it.",
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// A TOML configuration file (see vangnet.example.toml); also VANGNET_CONFIG.
    #[arg(long, global = true, env = "VANGNET_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format on stderr: text or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Log filter, such as info, warn or debug.
    #[arg(long, global = true, value_name = "FILTER")]
    log_level: Option<String>,
}

/// Where the database is.
#[derive(Debug, Args, Clone, Default)]
pub struct DbArgs {
    /// Database: a SQLite file (default ./vangnet.db) or postgres://user@host/db; also VANGNET_DB.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
}

/// Where to listen.
#[derive(Debug, Args, Clone, Default)]
pub struct ListenArgs {
    /// Address to listen on (default 127.0.0.1:8080); also VANGNET_LISTEN.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (HTTP API, web pages, metrics, OpenAPI document).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        listen: ListenArgs,
        /// Also run the stream workers: payment and call events from NATS JetStream
        /// (`[streams]` in the configuration).
        #[arg(long)]
        workers: bool,
    },
    /// Run the server with its stream workers (the same as `serve --workers`).
    Worker {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        listen: ListenArgs,
    },
    /// Fill the database with demo partners and realistic synthetic reports, print the tokens and URLs, then serve.
    Demo(commands::demo::DemoArgs),
    /// Manage partner organisations.
    Partner {
        #[command(subcommand)]
        command: commands::partner::PartnerCommand,
    },
    /// The PNBF recovery procedure: its partner directory of bank codes.
    Pnbf {
        #[command(subcommand)]
        command: commands::pnbf::PnbfCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: commands::partner::TokenCommand,
    },
    /// Import reports from a CSV or JSON Lines file.
    Import(commands::import::ImportArgs),
    /// Check indicators against the registry.
    Check(commands::check::CheckArgs),
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
    /// Retention that deletes: reports past their term.
    Retention {
        #[command(subcommand)]
        command: commands::retention::RetentionCommand,
    },
    /// Work with single reports.
    Report {
        #[command(subcommand)]
        command: commands::retention::ReportCommand,
    },
    /// Subject access (AVG article 15): what is held about one indicator.
    Subject {
        #[command(subcommand)]
        command: commands::subject::SubjectCommand,
    },
    /// Send a stream of synthetic payments and calls to a running server and show the decisions.
    Replay(commands::replay::ReplayArgs),
    /// Money-mule patterns in transaction files (IBM AMLworld form): generate, detect, evaluate.
    Mules(commands::mules::MulesArgs),
    /// Measure the hot paths (see BENCHMARKS.md).
    Bench(commands::bench::BenchArgs),
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (db, listen) = match &cli.command {
        Command::Serve { db, listen, .. } | Command::Worker { db, listen } => (db.db.clone(), listen.listen.clone()),
        Command::Demo(args) => (args.db.db.clone(), args.listen.listen.clone()),
        Command::Partner { command } => (command.db().db.clone(), None),
        Command::Token { command } => (command.db().db.clone(), None),
        Command::Pnbf { command } => (command.db().db.clone(), None),
        Command::Import(args) => (args.db.db.clone(), None),
        Command::Check(args) => (args.db.db.clone(), None),
        Command::Audit { command } => (command.db().db.clone(), None),
        Command::Retention { command } => (command.db().db.clone(), None),
        Command::Report { command } => (command.db().db.clone(), None),
        Command::Subject { command } => (command.db().db.clone(), None),
        Command::Bench(_) | Command::Mules(_) => (None, None),
        Command::Replay(args) => (args.db.db.clone(), None),
    };
    let overrides = Overrides {
        db,
        listen,
        log_format: cli.global.log_format.clone(),
        log_level: cli.global.log_level.clone(),
    };
    let config = match Config::load(cli.global.config.as_deref(), &overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { workers, .. } => commands::serve::run(&config, workers).await,
            Command::Worker { .. } => commands::serve::run(&config, true).await,
            Command::Demo(args) => commands::demo::run(&config, args).await,
            Command::Partner { command } => commands::partner::run_partner(&config, command).await,
            Command::Token { command } => commands::partner::run_token(&config, command).await,
            Command::Pnbf { command } => commands::pnbf::run(&config, command).await,
            Command::Import(args) => commands::import::run(&config, args).await,
            Command::Replay(args) => commands::replay::run(&config, args).await,
            Command::Check(args) => commands::check::run(&config, args).await,
            Command::Audit { command } => commands::audit::run(&config, command).await,
            Command::Retention { command } => commands::retention::run(&config, command).await,
            Command::Report { command } => commands::retention::run_report(&config, command).await,
            Command::Subject { command } => commands::subject::run(&config, command).await,
            Command::Mules(args) => commands::mules::run(&config, args).await,
            Command::Bench(args) => commands::bench::run(&config, args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
