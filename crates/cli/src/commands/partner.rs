//! `vangnet partner …` and `vangnet token …`: partner organisations and their API tokens.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use vangnet_core::Timestamp;
use vangnet_core::partner::PartnerKind;
use vangnet_core::token::ApiToken;

use crate::DbArgs;
use crate::config::Config;

fn parse_kind(s: &str) -> Result<PartnerKind, String> {
    PartnerKind::partner_kind_from_key(s).ok_or_else(|| {
        format!(
            "unknown kind `{s}`; one of: {}",
            PartnerKind::PARTNER_KINDS.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Create a partner organisation with one API token; the token is shown once.
    Add {
        /// The organisation's name (unique).
        #[arg(long)]
        name: String,
        /// police, helpdesk, bank, psp, telecom, marketplace, victim_support or operator.
        #[arg(long, value_parser = parse_kind)]
        kind: PartnerKind,
        /// A label for the first token, to tell it apart in `vangnet token list` (for example
        /// where it is used: "payment engine"). Never part of the token.
        #[arg(long, default_value = "")]
        label: String,
        /// Print only one JSON object {"id", "name", "kind", "token"} on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List partner organisations.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Give a partner another API token (for rotation); shown once.
    Add {
        /// The partner's id or name.
        #[arg(long)]
        partner: String,
        /// A label to tell the token apart in `vangnet token list` (where it is used, who holds
        /// it). Never part of the token.
        #[arg(long, default_value = "")]
        label: String,
        /// Print only one JSON object {"id", "partner_id", "token"} on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List a partner's tokens (never the secrets).
    List {
        /// The partner's id or name.
        #[arg(long)]
        partner: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token; servers stop accepting it within the token cache time (10 s by default).
    Revoke {
        /// The token's id (from `vangnet token list`).
        token_id: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl PartnerCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            PartnerCommand::Add { db, .. } | PartnerCommand::List { db, .. } => db,
        }
    }
}

impl TokenCommand {
    pub fn db(&self) -> &DbArgs {
        match self {
            TokenCommand::Add { db, .. } | TokenCommand::List { db, .. } | TokenCommand::Revoke { db, .. } => db,
        }
    }
}

pub async fn run_partner(config: &Config, command: PartnerCommand) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    match command {
        PartnerCommand::Add {
            name, kind, label, json, ..
        } => {
            let label = vangnet_core::token::check_label(&label).map_err(anyhow::Error::msg)?;
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                bail!("the name must be 1 to 200 characters");
            }
            let token = ApiToken::generate()?;
            let (partner, _) = store
                .create_partner(&name, kind, &token.digest(), label, "cli", Timestamp::now())
                .await?;
            if json {
                println!(
                    "{}",
                    json!({"id": partner.id, "name": partner.name, "kind": partner.kind.as_str(), "token": token.expose()})
                );
            } else {
                println!("Created partner {} ({}), id {}", partner.name, partner.kind, partner.id);
                println!("API token (shown only now; store it safely):\n  {}", token.expose());
            }
        }
        PartnerCommand::List { json, .. } => {
            let partners = store.partners().await?;
            if json {
                let list: Vec<_> = partners
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "kind": p.kind.as_str(), "created_at": p.created_at.to_rfc3339()}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for p in partners {
                    println!("{}  {:<15} {}", p.id, p.kind.as_str(), p.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    match command {
        TokenCommand::Add { partner, label, json, .. } => {
            let label = vangnet_core::token::check_label(&label).map_err(anyhow::Error::msg)?;
            let found = store.partner(&partner).await?.with_context(|| format!("no partner `{partner}`"))?;
            let token = ApiToken::generate()?;
            let info = store.add_token(&found.id, &token.digest(), label, "cli", Timestamp::now()).await?;
            if json {
                println!("{}", json!({"id": info.id, "partner_id": found.id, "token": token.expose()}));
            } else {
                println!("New token {} for {} (shown only now):\n  {}", info.id, found.name, token.expose());
            }
        }
        TokenCommand::List { partner, .. } => {
            let found = store.partner(&partner).await?.with_context(|| format!("no partner `{partner}`"))?;
            for t in store.tokens(&found.id).await? {
                let state = t.revoked_at.map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                let label = if t.label.is_empty() { "(no label)" } else { t.label.as_str() };
                println!("{}  {label}  created {}  {}", t.id, t.created_at, state);
            }
        }
        TokenCommand::Revoke { token_id, .. } => {
            if store.revoke_token(&token_id, "cli", Timestamp::now()).await? {
                println!("Revoked token {token_id}.");
            } else {
                bail!("no active token `{token_id}`");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
