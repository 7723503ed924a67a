//! `vangnet retention run [--dry-run]` and `vangnet report erase ID --reason …`: retention
//! that deletes, and an operator's erasure of one report, from the command line. Both write
//! through the store as the servers' sweep does, audited (actor `cli`); running servers take the
//! deletions out of their indexes through the change feed.

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use vangnet_core::Timestamp;
use vangnet_store::Deletion;

use crate::DbArgs;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete every report whose retention term has passed (`[retention]` in the
    /// configuration), with what only it held; `--dry-run` shows what would go.
    Run {
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Erase one report at once (rectification or erasure under the AVG), with a reason.
    Erase {
        /// The report's id.
        id: String,
        /// Why, for the audit log (required).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl RetentionCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            RetentionCommand::Run { db, .. } => db,
        }
    }
}

impl ReportCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            ReportCommand::Erase { db, .. } => db,
        }
    }
}

pub async fn run(config: &Config, command: RetentionCommand) -> anyhow::Result<ExitCode> {
    let RetentionCommand::Run { dry_run, .. } = command;
    let policy = config.retention_policy()?;
    let store = super::open_store(config).await?;
    let what = if dry_run {
        "reports past their term"
    } else {
        "deleting reports past their term"
    };
    let bar = super::progress(None, what);
    let totals = vangnet_services::retention::sweep(store.as_ref(), &policy, Timestamp::now(), dry_run, "cli", |batch| {
        bar.inc(batch.examined as u64);
        bar.set_message(format!("{what}: {} due", batch.due.len()));
    })
    .await?;
    bar.finish_and_clear();
    let cases = totals.cases;
    if dry_run {
        println!(
            "{} of {} reports looked at are past their term and would be deleted (dry run: nothing changed).",
            totals.due, totals.examined
        );
        println!(
            "Past their term after the decision: {} disputes, {} objections, {} clearance reviews.",
            cases.disputes, cases.objections, cases.clearance_reviews
        );
    } else {
        println!(
            "Deleted {} reports past their term ({} looked at).",
            totals.deleted, totals.examined
        );
        println!(
            "Deleted {} disputes, {} objections and {} clearance reviews decided more than {} days ago.",
            cases.disputes, cases.objections, cases.clearance_reviews, policy.decided_days
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_report(config: &Config, command: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Erase { id, reason, .. } = command;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || !vangnet_core::report::is_plain_text(reason) {
        bail!("--reason must be 1 to 500 characters of plain text");
    }
    let store = super::open_store(config).await?;
    let Some(report) = store.report(&id).await? else {
        bail!("no report `{id}`");
    };
    let deleted = store
        .delete_reports(&[report.seq], Deletion::Erasure { reason }, "cli", Timestamp::now())
        .await?;
    if deleted.is_empty() {
        bail!("report `{id}` was deleted meanwhile");
    }
    println!("Erased report {id}; running servers drop it within one change-feed cycle.");
    Ok(ExitCode::SUCCESS)
}
