//! `vangnet partner …` and `vangnet token …`: partner organisations and their API tokens.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use vangnet_core::Timestamp;
use vangnet_core::partner::PartnerKind;
use vangnet_core::scope::Scopes;
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
        /// What the token may be used for, comma-separated: check, report, screen, calls,
        /// pnbf, disputes, export, admin (bounded by the partner's kind). Every scope of the
        /// kind when absent.
        #[arg(long, value_name = "SCOPES")]
        scope: Option<String>,
        /// Why the token is issued ("fraud desk: checks before payouts"); kept with the token
        /// and named by every audit entry it makes. Up to 200 characters.
        #[arg(long, default_value = "")]
        purpose: String,
        /// Print only one JSON object {"id", "partner_id", "token", "scopes"} on stdout.
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

/// Scopes from `--scope`, each one the partner's kind may hold.
fn checked_scopes(text: &str, kind: vangnet_core::PartnerKind) -> anyhow::Result<Scopes> {
    let scopes = Scopes::parse(text)
        .map_err(|bad| anyhow::anyhow!("--scope: `{bad}` is not a scope (check, report, screen, calls, pnbf, disputes, export, admin)"))?;
    if scopes.is_empty() {
        bail!("--scope names no scope");
    }
    let allowed = Scopes::of_kind(kind);
    if let Some(outside) = scopes.iter().find(|s| !allowed.contains(*s)) {
        bail!(
            "--scope: a partner of kind `{}` cannot hold `{outside}` (it may hold {})",
            kind.as_str(),
            allowed.to_text()
        );
    }
    Ok(scopes)
}

pub async fn run_token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    match command {
        TokenCommand::Add {
            partner,
            label,
            scope,
            purpose,
            json,
            ..
        } => {
            let label = vangnet_core::token::check_label(&label).map_err(anyhow::Error::msg)?;
            let found = store.partner(&partner).await?.with_context(|| format!("no partner `{partner}`"))?;
            let scopes = scope.as_deref().map(|text| checked_scopes(text, found.kind)).transpose()?;
            let purpose = purpose.trim();
            if purpose.chars().count() > 200 || !vangnet_core::report::is_plain_text(purpose) {
                bail!("--purpose must be at most 200 characters of plain text");
            }
            let purpose = (!purpose.is_empty()).then_some(purpose);
            let token = ApiToken::generate()?;
            let info = store
                .add_scoped_token(&found.id, &token.digest(), label, scopes, purpose, "cli", Timestamp::now())
                .await?;
            let granted = scopes.unwrap_or_else(|| Scopes::of_kind(found.kind)).to_text();
            if json {
                println!(
                    "{}",
                    json!({"id": info.id, "partner_id": found.id, "token": token.expose(), "scopes": granted})
                );
            } else {
                println!("New token {} for {} (shown only now):\n  {}", info.id, found.name, token.expose());
                println!("Scopes: {granted}");
            }
        }
        TokenCommand::List { partner, .. } => {
            let found = store.partner(&partner).await?.with_context(|| format!("no partner `{partner}`"))?;
            for t in store.tokens(&found.id).await? {
                let state = t.revoked_at.map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                let label = if t.label.is_empty() { "(no label)" } else { t.label.as_str() };
                let scopes = t
                    .scopes
                    .map_or_else(|| "all scopes of its kind".to_owned(), |s| format!("scopes {}", s.to_text()));
                let purpose = t.purpose.as_deref().map(|p| format!("  purpose \"{p}\"")).unwrap_or_default();
                println!("{}  {label}  created {}  {}  {scopes}{purpose}", t.id, t.created_at, state);
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
