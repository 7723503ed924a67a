//! `vangnet import FILE`: bulk-import reports from JSON Lines or CSV.
//!
//! Every line goes through the same checks as `POST /api/v1/reports`. Bad lines are reported
//! with their line number and skipped; good lines are stored in batches, each batch in one
//! transaction. A report with an `external_id` the partner used before is not stored again,
//! so re-running an import after an interruption is safe. Reading and checking run on a
//! thread of their own while the previous batch is being written.
//!
//! JSON Lines: one report per line, exactly as the API takes it.
//!
//! CSV: a header row, then one report per row. Columns: `external_id`, `fraud_type`,
//! `channel`, `occurred_at`, `amount`, `currency` (default EUR), `aangifte`
//! (true/false, ja/nee, 1/0), `victim_age_band`, `tlp`, `description`, and indicator columns:
//! a kind (`iban`, `phone`, `url`, `domain`, `email`, `crypto`, `handle`) or a role and a kind
//! (`payee_iban`, `caller_phone`, `website_url` …). An indicator cell may hold several values
//! separated by `;`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tokio::sync::mpsc;
use vangnet_core::Timestamp;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::{IndicatorRole, NewReport};
use vangnet_store::{InsertOutcome, MAX_INSERT_BATCH};
use vangnet_wire::json::parse_json;
use vangnet_wire::registry::{IndicatorIn, MoneyJson, ReportIn};

use crate::DbArgs;
use crate::config::Config;

/// The longest line accepted, in bytes.
const MAX_LINE: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when every line was imported (or was there already), 1 when some lines were rejected or \
                        conflicted with earlier reports, 2 for a usage error."
)]
pub struct ImportArgs {
    /// The file to import.
    file: PathBuf,
    /// csv or jsonl; by default taken from the file name's extension.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The partner (id or name) filing these reports.
    #[arg(long)]
    partner: String,
    /// Reports per transaction (1 to 20000); larger batches import faster.
    #[arg(long, default_value_t = 20_000)]
    batch_size: usize,
    #[command(flatten)]
    pub db: DbArgs,
}

/// A checked line, or why it was rejected.
type Line = (u64, Result<NewReport, String>);

#[derive(Debug, Default)]
struct Tally {
    created: u64,
    existing: u64,
    conflicts: u64,
    rejected: u64,
    without_external_id: u64,
}

pub async fn run(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    if !(1..=MAX_INSERT_BATCH).contains(&args.batch_size) {
        bail!("--batch-size must be between 1 and {MAX_INSERT_BATCH}");
    }
    let format = match args.format {
        Some(f) => f,
        None => match args
            .file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
            _ => bail!("cannot tell the format from the file name; give --format csv or --format jsonl"),
        },
    };
    let file = File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).ok();
    // An import can always be run again, so it trades the last commits' durability for speed.
    let store = vangnet_store::open_with(&config.db, vangnet_store::Durability::Bulk)
        .await
        .with_context(|| format!("cannot open the database {}", vangnet_store::describe_url(&config.db)))?;
    let partner = store
        .partner(&args.partner)
        .await?
        .with_context(|| format!("no partner `{}`", args.partner))?;
    if !partner.kind.may_submit_reports() {
        bail!("partners of kind {} do not file reports", partner.kind);
    }
    let actor = format!("cli:import:{}", partner.id);

    let bar = super::progress(size, "importing");
    let (tx, mut rx) = mpsc::channel::<(u64, Vec<Line>)>(2);
    let batch_size = args.batch_size;
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let now = Timestamp::now();
        match format {
            Format::Jsonl => read_jsonl(file, batch_size, now, &tx),
            Format::Csv => read_csv(file, batch_size, now, &tx),
        }
    });

    let mut tally = Tally::default();
    while let Some((bytes_read, lines)) = rx.recv().await {
        let mut good = Vec::with_capacity(lines.len());
        let mut good_lines = Vec::with_capacity(lines.len());
        for (line, parsed) in lines {
            match parsed {
                Ok(report) => {
                    if report.external_id().is_none() {
                        tally.without_external_id += 1;
                    }
                    good.push(report);
                    good_lines.push(line);
                }
                Err(why) => {
                    tally.rejected += 1;
                    bar.suspend(|| eprintln!("line {line}: {why}"));
                }
            }
        }
        if !good.is_empty() {
            let outcomes = store
                .insert_reports(&partner, &good, &actor, Timestamp::now())
                .await
                .context("storing a batch failed")?;
            for (line, outcome) in good_lines.iter().zip(outcomes) {
                match outcome {
                    InsertOutcome::Created(_) => tally.created += 1,
                    InsertOutcome::Existing { .. } => tally.existing += 1,
                    InsertOutcome::Conflict { existing_id } => {
                        tally.conflicts += 1;
                        bar.suspend(|| {
                            eprintln!("line {line}: external_id was used before for a different report ({existing_id}); not stored")
                        });
                    }
                }
            }
        }
        bar.set_position(bytes_read);
    }
    reader.await.context("the reader thread failed")??;
    bar.finish_and_clear();
    println!(
        "Imported {}: {} stored, {} already there, {} conflicting, {} rejected.",
        args.file.display(),
        tally.created,
        tally.existing,
        tally.conflicts,
        tally.rejected
    );
    if tally.without_external_id > 0 {
        println!(
            "Note: {} reports had no external_id; importing this file again would store them again.",
            tally.without_external_id
        );
    }
    Ok(if tally.rejected + tally.conflicts > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn send(tx: &mpsc::Sender<(u64, Vec<Line>)>, bytes: u64, batch: &mut Vec<Line>) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    tx.blocking_send((bytes, std::mem::take(batch)))
        .map_err(|_| anyhow::anyhow!("the import stopped"))
}

fn read_jsonl(file: File, batch_size: usize, now: Timestamp, tx: &mpsc::Sender<(u64, Vec<Line>)>) -> anyhow::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(4096);
    let (mut line_no, mut bytes) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .context("reading the file failed")?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
            // Skip the rest of an overlong line.
            let mut rest = Vec::new();
            bytes += reader.read_until(b'\n', &mut rest).context("reading the file failed")? as u64;
            batch.push((line_no, Err(format!("the line is longer than {MAX_LINE} bytes"))));
            continue;
        }
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let parsed = parse_json::<ReportIn>(text)
            .and_then(|input| input.into_new("", now))
            .map_err(|e| describe(&e));
        batch.push((line_no, parsed));
        if batch.len() >= batch_size {
            send(tx, bytes, &mut batch)?;
        }
    }
    send(tx, bytes, &mut batch)
}

fn describe(e: &vangnet_wire::WireError) -> String {
    match &e.field {
        Some(field) if field != "." => format!("{field}: {} ({})", e.message, e.code),
        _ => format!("{} ({})", e.message, e.code),
    }
}

/// What a CSV column holds.
#[derive(Debug, Clone, Copy)]
enum Column {
    ExternalId,
    FraudType,
    Channel,
    OccurredAt,
    Amount,
    Currency,
    Aangifte,
    AgeBand,
    Tlp,
    Description,
    Indicator(IndicatorKind, Option<IndicatorRole>),
}

fn column(name: &str) -> Option<Column> {
    let name = name.trim().to_ascii_lowercase();
    Some(match name.as_str() {
        "external_id" => Column::ExternalId,
        "fraud_type" => Column::FraudType,
        "channel" => Column::Channel,
        "occurred_at" => Column::OccurredAt,
        "amount" => Column::Amount,
        "currency" => Column::Currency,
        "aangifte" => Column::Aangifte,
        "victim_age_band" => Column::AgeBand,
        "tlp" => Column::Tlp,
        "description" => Column::Description,
        other => match IndicatorKind::from_key(other) {
            Some(kind) => Column::Indicator(kind, None),
            None => {
                let (role, kind) = other.rsplit_once('_')?;
                Column::Indicator(IndicatorKind::from_key(kind)?, Some(IndicatorRole::from_key(role)?))
            }
        },
    })
}

fn read_csv(file: File, batch_size: usize, now: Timestamp, tx: &mpsc::Sender<(u64, Vec<Line>)>) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let headers = reader.headers().context("the CSV file has no header row")?.clone();
    let columns: Vec<Column> = headers
        .iter()
        .map(|h| column(h).with_context(|| format!("unknown CSV column `{h}`; see `vangnet import --help`")))
        .collect::<anyhow::Result<_>>()?;
    let mut batch = Vec::with_capacity(batch_size);
    let mut record = csv::StringRecord::new();
    loop {
        let position = reader.position().clone();
        let line_no = position.line() + u64::from(position.line() == 0);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let parsed = csv_report(&columns, &record).and_then(|input| input.into_new("", now).map_err(|e| describe(&e)));
                batch.push((line_no, parsed));
            }
            Err(e) => batch.push((line_no, Err(format!("not valid CSV: {e}")))),
        }
        if batch.len() >= batch_size {
            send(tx, reader.position().byte(), &mut batch)?;
        }
    }
    send(tx, reader.position().byte(), &mut batch)
}

fn csv_report(columns: &[Column], record: &csv::StringRecord) -> Result<ReportIn, String> {
    if record.len() > columns.len() {
        return Err(format!("the row has {} fields but the header only {}", record.len(), columns.len()));
    }
    let mut input = ReportIn {
        external_id: None,
        fraud_type: String::new(),
        channel: None,
        occurred_at: String::new(),
        amount: None,
        aangifte: false,
        victim_age_band: None,
        tlp: None,
        description: None,
        indicators: Vec::new(),
    };
    let (mut amount, mut currency) = (None, None);
    for (column, cell) in columns.iter().zip(record.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let text = Some(cell.to_owned());
        match column {
            Column::ExternalId => input.external_id = text,
            Column::FraudType => input.fraud_type = cell.to_owned(),
            Column::Channel => input.channel = text,
            Column::OccurredAt => input.occurred_at = cell.to_owned(),
            Column::Amount => amount = text,
            Column::Currency => currency = text,
            Column::Aangifte => {
                input.aangifte = match cell.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "ja" | "1" | "y" | "j" => true,
                    "false" | "no" | "nee" | "0" | "n" => false,
                    _ => return Err(format!("aangifte: `{cell}` is not yes or no")),
                }
            }
            Column::AgeBand => input.victim_age_band = text,
            Column::Tlp => input.tlp = text,
            Column::Description => input.description = text,
            Column::Indicator(kind, role) => {
                for value in cell.split(';').map(str::trim).filter(|v| !v.is_empty()) {
                    input.indicators.push(IndicatorIn {
                        kind: Some(kind.as_str().to_owned()),
                        value: value.to_owned(),
                        role: role.map(|r| r.as_str().to_owned()),
                    });
                }
            }
        }
    }
    if input.fraud_type.is_empty() {
        return Err("fraud_type: is required (missing_field)".to_owned());
    }
    if input.occurred_at.is_empty() {
        return Err("occurred_at: is required (missing_field)".to_owned());
    }
    if let Some(value) = amount {
        input.amount = Some(MoneyJson {
            value,
            currency: currency.unwrap_or_else(|| "EUR".to_owned()),
        });
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns() {
        assert!(matches!(
            column("payee_iban"),
            Some(Column::Indicator(IndicatorKind::Iban, Some(IndicatorRole::Payee)))
        ));
        assert!(matches!(column("Phone"), Some(Column::Indicator(IndicatorKind::Phone, None))));
        assert!(matches!(column("fraud_type"), Some(Column::FraudType)));
        assert!(column("payee_bankaccount").is_none());
        assert!(column("shoe_size").is_none());
    }
}
