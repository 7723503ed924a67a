//! `vangnet audit verify`: check the audit log's hash chain.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::DbArgs;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of the audit log: detects any changed, removed or truncated entry.
    ///
    /// Prints the head (sequence number and hash) of an intact log; record it elsewhere and
    /// pass it as --anchor next time to detect even a rewrite of the whole log.
    /// Exit status: 0 intact, 1 broken.
    Verify {
        /// An earlier head, as SEQ:HASH, that must still be part of the chain.
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl AuditCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            AuditCommand::Verify { db, .. } => db,
        }
    }
}

pub async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { anchor, .. } = command;
    let anchor = anchor
        .map(|a| -> anyhow::Result<(u64, String)> {
            let (seq, hash) = a.split_once(':').context("--anchor must be SEQ:HASH")?;
            Ok((seq.parse().context("--anchor must start with a sequence number")?, hash.to_owned()))
        })
        .transpose()?;
    let store = super::open_store(config).await?;
    let total = store.audit_head().await?.map(|(seq, _)| seq);
    let bar = super::progress(total, "verifying the audit log");
    let result = vangnet_store::verify_audit(store.as_ref(), anchor.as_ref().map(|(s, h)| (*s, h.as_str())), |n| {
        bar.set_position(n)
    })
    .await?;
    bar.finish_and_clear();
    match result {
        Ok((seq, hash)) => {
            println!("The audit log is intact: {seq} entries.");
            println!("Head: {seq}:{hash}");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            println!("The audit log is NOT intact: {broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}
