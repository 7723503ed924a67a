//! `vangnet check VALUE…`: check indicators from the command line.
//!
//! Loads the index from the database and answers as the API would. Without `--as`, the
//! command reads as a platform operator, who under TLP sees CLEAR and GREEN reports only;
//! `--as PARTNER` reads as that partner. Hits are recorded in the audit log.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent, subject_pseudonym};
use vangnet_core::index::{CheckStatus, IndicatorIndex};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_wire::WireError;
use vangnet_wire::registry::CheckResult;

use crate::DbArgs;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The values to check: IBANs, phone numbers, web addresses, e-mail addresses, crypto addresses, handles.
    #[arg(required = true, value_name = "VALUE")]
    values: Vec<String>,
    /// Their kind, when it should not be detected: iban, phone, url, domain, email, crypto or handle.
    #[arg(long)]
    kind: Option<String>,
    /// Read as this partner (id or name) instead of as the platform operator.
    #[arg(long = "as", value_name = "PARTNER")]
    as_partner: Option<String>,
    /// Print the results as JSON, in the shape of the API's check response.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(config: &Config, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let kind = args
        .kind
        .as_deref()
        .map(|k| {
            IndicatorKind::from_key(k)
                .with_context(|| format!("unknown kind `{k}`; one of iban, phone, url, domain, email, crypto, handle"))
        })
        .transpose()?;
    let store = super::open_store(config).await?;
    let (viewer, actor) = match &args.as_partner {
        Some(name) => {
            let partner = store.partner(name).await?.with_context(|| format!("no partner `{name}`"))?;
            (partner.viewer(), format!("cli:as:{}", partner.id))
        }
        None => (
            Viewer {
                partner: 0,
                kind: PartnerKind::Operator,
            },
            "cli".to_owned(),
        ),
    };
    let bar = super::progress(None, "loading the registry");
    let (index, _) = store.load_index(IndicatorIndex::new()).await?;
    bar.finish_and_clear();
    let policy = config.scoring_policy();
    let now = Timestamp::now();
    let mut results = Vec::with_capacity(args.values.len());
    let mut hits = Vec::new();
    for (i, value) in args.values.iter().enumerate() {
        match Indicator::parse(kind, value) {
            Ok(indicator) => {
                let view = index.check(&indicator, &viewer, now, &policy);
                if view.status != CheckStatus::NotReported {
                    hits.push(indicator.clone());
                }
                results.push(CheckResult::from_view(&indicator, &view));
            }
            Err(e) => results.push(CheckResult::invalid(kind, value, &WireError::indicator(&e, format!("values[{i}]")))),
        }
    }
    if !hits.is_empty() {
        let key = vangnet_services::audit_key(store.as_ref(), &config.services_settings()?).await?;
        let events: Vec<AuditEvent> = hits
            .iter()
            .map(|i| AuditEvent {
                at: now,
                actor: actor.clone(),
                action: AuditAction::CheckHits,
                subject: format!("indicator:{}", subject_pseudonym(&key, i.kind(), i.canonical())),
                details: "{}".to_owned(),
            })
            .collect();
        store.append_audit(&events).await?;
    }
    if args.json {
        println!("{}", serde_json::json!({ "results": results }));
    } else {
        for r in &results {
            print_result(r);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_result(r: &CheckResult) {
    let kind = r.kind.unwrap_or("?");
    match r.status {
        "invalid" => {
            let why = r.error.as_ref().map_or(String::new(), |e| e.message.clone());
            println!("{}  INVALID  {why}", r.value);
        }
        "not_reported" => println!("{}  ({kind})  not reported (this does not mean it is safe)", r.value),
        status => {
            println!(
                "{}  ({kind})  {}  score {:.2}",
                r.value,
                status.to_uppercase().replace('_', " "),
                r.score.unwrap_or(0.0)
            );
            for reason in r.reasons.iter().flatten() {
                println!("    - {reason}");
            }
        }
    }
}
