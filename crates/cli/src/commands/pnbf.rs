//! `vangnet pnbf bank-code …`: the PNBF partner directory (which partner handles the accounts
//! of a Dutch bank code), for the operator at the command line. The same as
//! `PUT`/`DELETE /api/v1/pnbf/bank-codes/{code}`, audited as `pnbf.directory.change` by `cli`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};

use crate::DbArgs;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum PnbfCommand {
    /// The partner directory of the PNBF procedure: bank codes and the partners that handle them.
    #[command(subcommand)]
    BankCode(BankCodeCommand),
}

#[derive(Debug, Subcommand)]
pub enum BankCodeCommand {
    /// Point a bank code (four letters, e.g. INGB) at a bank or PSP.
    Set {
        /// The bank code: positions 5 to 8 of a Dutch IBAN.
        code: String,
        /// The partner's id or exact name (a bank or PSP).
        #[arg(long)]
        partner: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove a bank code from the directory.
    Remove {
        code: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the directory.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl PnbfCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            PnbfCommand::BankCode(
                BankCodeCommand::Set { db, .. } | BankCodeCommand::Remove { db, .. } | BankCodeCommand::List { db, .. },
            ) => db,
        }
    }
}

fn code_of(code: &str) -> anyhow::Result<String> {
    vangnet_core::pnbf::bank_code(code).with_context(|| format!("`{code}` is not a bank code: four letters, e.g. INGB"))
}

pub async fn run(config: &Config, command: PnbfCommand) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let PnbfCommand::BankCode(command) = command;
    let audit = |code: &str, details: String| AuditEvent {
        at: Timestamp::now(),
        actor: "cli".to_owned(),
        action: AuditAction::PnbfDirectoryChange,
        subject: format!("bank_code:{code}"),
        details,
    };
    match command {
        BankCodeCommand::Set { code, partner, .. } => {
            let code = code_of(&code)?;
            let Some(found) = store.partner(&partner).await? else {
                bail!("no partner `{partner}`");
            };
            if !found.kind.holds_accounts() {
                bail!("{} is a {}: only banks and PSPs hold accounts", found.name, found.kind);
            }
            store.pnbf_set_bank_code(&code, Some(found.seq), Timestamp::now()).await?;
            store
                .append_audit(&[audit(&code, json!({ "partner": found.id }).to_string())])
                .await?;
            println!("{code} → {} ({})", found.name, found.id);
        }
        BankCodeCommand::Remove { code, .. } => {
            let code = code_of(&code)?;
            store.pnbf_set_bank_code(&code, None, Timestamp::now()).await?;
            store.append_audit(&[audit(&code, json!({ "removed": true }).to_string())]).await?;
            println!("{code} removed from the directory");
        }
        BankCodeCommand::List { json, .. } => {
            let partners = store.partners().await?;
            let rows: Vec<(String, String, String)> = store
                .pnbf_bank_codes()
                .await?
                .into_iter()
                .filter_map(|(code, seq)| {
                    let p = partners.iter().find(|p| p.seq == seq)?;
                    Some((code, p.id.clone(), p.name.clone()))
                })
                .collect();
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(code, id, name)| json!({"code": code, "partner": {"id": id, "name": name}}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for (code, id, name) in rows {
                    println!("{code}  {id}  {name}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
