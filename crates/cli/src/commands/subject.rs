//! `vangnet subject export KIND VALUE [--out FILE] [--format json|html]`: everything Vangnet
//! holds about one indicator, for the person it concerns (AVG article 15), as the operator at
//! the command line (under TLP as the operator kind reads). JSON in the API's shape, or the
//! printable page in plain Dutch as a file of its own. Audited as a subject-access request.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use vangnet_core::Timestamp;
use vangnet_core::index::IndicatorIndex;
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_services::subjects::{Requester, export};
use vangnet_wire::subjects::export_out;

use crate::DbArgs;
use crate::config::Config;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// The API's JSON shape.
    Json,
    /// A printable page in Dutch (with English), its stylesheet inside.
    Html,
}

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// Export everything held about one indicator: its reports, status history, disputes,
    /// objections, and every access to it from the audit log, with the deletion date of each.
    Export {
        /// iban, phone, url, domain, email, crypto or handle.
        kind: String,
        /// The value (normalised as everywhere: `NL91 ABNA 0417 1643 00` is an IBAN).
        value: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// `json`, or `html` for the printable page; without it, from the file's extension
        /// (`.html`), else JSON.
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl SubjectCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            SubjectCommand::Export { db, .. } => db,
        }
    }
}

pub async fn run(config: &Config, command: SubjectCommand) -> anyhow::Result<ExitCode> {
    let SubjectCommand::Export {
        kind, value, out, format, ..
    } = command;
    let Some(kind) = IndicatorKind::from_key(&kind) else {
        bail!("`{kind}` is not a kind: use iban, phone, url, domain, email, crypto or handle");
    };
    let indicator = Indicator::parse(Some(kind), &value).map_err(|e| anyhow::anyhow!("{e}"))?;
    let format = format.unwrap_or(match out.as_ref().and_then(|p| p.extension()) {
        Some(ext) if ext.eq_ignore_ascii_case("html") || ext.eq_ignore_ascii_case("htm") => Format::Html,
        _ => Format::Json,
    });
    let store = super::open_store(config).await?;
    let key = vangnet_services::audit_key(store.as_ref(), &config.services_settings()?).await?;
    let policy = config.retention_policy()?;
    let bar = super::progress(None, "loading the registry");
    let (index, _) = store.load_index(IndicatorIndex::new()).await?;
    bar.finish_and_clear();
    let reports = index.reports(index.key_of(&indicator));
    drop(index);
    let exported = export(
        store.as_ref(),
        &key,
        &policy,
        &indicator,
        &reports,
        &Requester::command_line(),
        Timestamp::now(),
    )
    .await?;
    let out_shape = export_out(&exported);
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&out_shape)?,
        Format::Html => vangnet_server::web::subjects::export_document(&out_shape).context("rendering the page")?,
    };
    match out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "Wrote the export ({} reports, {} accesses) to {}; this export is in the audit log.",
                exported.reports.len(),
                exported.accesses.len(),
                path.display()
            );
        }
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
