//! The SQLite store: the embedded default, one file in WAL mode.
//!
//! One writer connection (SQLite allows one writer at a time anyway) and a few reader
//! connections, which WAL lets run beside the writer. All database work runs on tokio's
//! blocking threads, never on the async workers. Writes use `BEGIN IMMEDIATE`, so a
//! transaction holds the write lock from its start and the audit chain cannot fork; a
//! second process (`vangnet import` beside a running server) waits up to `BUSY_TIMEOUT`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEntry, AuditEvent};
use vangnet_core::index::{CitizenReview, IndicatorIndex, IndicatorStatus};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::{FraudType, NewReport};
use vangnet_core::token::TokenDigest;

use crate::batch::{Plan, indicator_deltas, plan, report_created_event, report_retracted_event};
use crate::rows::{
    AUDIT_SELECT, AuditRecord, CHANGE_SELECT, ChangeRecord, IndicatorRecord, IndicatorRowRecord, LINK_SELECT, LinkRecord, PNBF_COLUMNS,
    PNBF_EVENT_COLUMNS, PartnerRecord, REPORT_SELECT, ReportRecord, TokenRecord, fraud_type_column, fraud_type_columns, indicator_select,
    stored_from_new,
};
use crate::{
    Backend, Change, ChangeEvent, Durability, IndicatorRow, InsertOutcome, MAX_INSERT_BATCH, Partner, RetractOutcome, Store, StoreError,
    StoredReport, TokenInfo, new_id, parse_key,
};
use crate::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, ReviewOutcome};
use crate::{DecisionOutcome, DecisionWrite, PaymentDecisionRow, PnbfCaseRow, PnbfEventRow, StateBlob};

mod call_lists;
mod citizen_reviews;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_registry.sql")),
    (2, include_str!("../../migrations/sqlite/0002_citizen_reports.sql")),
    (3, include_str!("../../migrations/sqlite/0003_payment_screening.sql")),
    (4, include_str!("../../migrations/sqlite/0004_call_screening.sql")),
    (5, include_str!("../../migrations/sqlite/0005_pnbf.sql")),
    (6, include_str!("../../migrations/sqlite/0006_citizen_review.sql")),
    (7, include_str!("../../migrations/sqlite/0007_status_position.sql")),
    (8, include_str!("../../migrations/sqlite/0008_call_list_owners.sql")),
    (9, include_str!("../../migrations/sqlite/0009_email_lower_case.sql")),
    (10, include_str!("../../migrations/sqlite/0010_token_labels.sql")),
];
const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves no open transaction behind (rusqlite rolls back
    // on drop), so the connection is safe to use again.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn connect(path: &Path, durability: Durability) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // 8 KiB pages: a quarter fewer page writes per report than the default 4 KiB in the
    // import benchmark (BENCHMARKS.md). Takes effect only when the file is created.
    conn.execute_batch("PRAGMA page_size = 8192;")?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;")?;
    match durability {
        Durability::Full => conn.execute_batch("PRAGMA synchronous = FULL;")?,
        // WAL with NORMAL never corrupts the file; it only may lose the newest commits on a
        // power loss. Fewer, larger checkpoints and a bigger cache suit a long stream of writes.
        Durability::Bulk => {
            conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 20000; PRAGMA cache_size = -262144;")?
        }
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if !applied {
            tx.execute_batch(sql).map_err(|e| StoreError::Migration {
                version: *version,
                message: e.to_string(),
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, Timestamp::now().millis()],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the database file at `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, Durability::Full).await
    }

    /// Opens with the given durability.
    pub async fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut writer = connect(&path, durability)?;
            migrate(&mut writer)?;
            let readers = (0..READERS)
                .map(|_| connect(&path, durability).map(Mutex::new))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path,
                    writer: Mutex::new(writer),
                    readers,
                    next_reader: AtomicUsize::new(0),
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Database(format!("the database task failed: {e}")))?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer)))
            .await
            .map_err(|e| StoreError::Database(format!("the database task failed: {e}")))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            // Take the first reader that is free, starting at a rotating position; wait for
            // the rotating one if all are busy.
            for i in 0..inner.readers.len() {
                let slot = &inner.readers[(start + i) % inner.readers.len()];
                if let Ok(mut conn) = slot.try_lock() {
                    return f(&mut conn);
                }
            }
            f(&mut lock(&inner.readers[start % inner.readers.len()]))
        })
        .await
        .map_err(|e| StoreError::Database(format!("the database task failed: {e}")))?
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn partner_record(r: &Row<'_>) -> rusqlite::Result<PartnerRecord> {
    Ok(PartnerRecord {
        seq: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        created_at: r.get(4)?,
    })
}

const PARTNER_SELECT: &str = "SELECT seq, id, name, kind, created_at FROM partners";

fn report_record(r: &Row<'_>) -> rusqlite::Result<ReportRecord> {
    Ok(ReportRecord {
        seq: r.get(0)?,
        id: r.get(1)?,
        partner_seq: r.get(2)?,
        partner_id: r.get(3)?,
        partner_name: r.get(4)?,
        partner_kind: r.get(5)?,
        external_id: r.get(6)?,
        fraud_type: r.get(7)?,
        channel: r.get(8)?,
        occurred_at: r.get(9)?,
        received_at: r.get(10)?,
        amount_minor: r.get(11)?,
        currency: r.get(12)?,
        aangifte: r.get(13)?,
        victim_age_band: r.get(14)?,
        tlp: r.get(15)?,
        description: r.get(16)?,
        retracted_at: r.get(17)?,
        retracted_by: r.get(18)?,
        retraction_reason: r.get(19)?,
        submitter: r.get(20)?,
        review_outcome: r.get(21)?,
        reviewed_at: r.get(22)?,
        reviewed_by: r.get(23)?,
        review_note: r.get(24)?,
    })
}

fn load_report(conn: &Connection, by_seq: Option<i64>, by_id: Option<&str>) -> Result<Option<StoredReport>, StoreError> {
    let record = match (by_seq, by_id) {
        (Some(seq), _) => {
            let mut stmt = conn.prepare_cached(&format!("{REPORT_SELECT} WHERE r.seq = ?1"))?;
            stmt.query_row([seq], report_record).optional()?
        }
        (None, Some(id)) => {
            let mut stmt = conn.prepare_cached(&format!("{REPORT_SELECT} WHERE r.id = ?1"))?;
            stmt.query_row([id], report_record).optional()?
        }
        (None, None) => None,
    };
    let Some(record) = record else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare_cached("SELECT kind, value, role, derived FROM report_indicators WHERE report_seq = ?1 ORDER BY position")?;
    let indicators = stmt
        .query_map([record.seq], |r| {
            Ok(IndicatorRecord {
                kind: r.get(0)?,
                value: r.get(1)?,
                role: r.get(2)?,
                derived: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    record.into_report(indicators).map(Some)
}

fn append_audit_tx(tx: &Transaction<'_>, events: &[AuditEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let (mut seq, mut hash): (i64, String) =
        tx.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for event in events {
        seq += 1;
        let entry = AuditEntry::chain(event, u64::try_from(seq).unwrap_or(0), &hash);
        insert.execute(params![
            seq,
            entry.at.millis(),
            entry.actor,
            entry.action,
            entry.subject,
            entry.details,
            entry.prev_hash,
            entry.hash
        ])?;
        hash = entry.hash;
    }
    tx.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", params![seq, hash])?;
    Ok(())
}

fn partner_by(conn: &Connection, id_or_name: &str) -> Result<Option<Partner>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{PARTNER_SELECT} WHERE id = ?1 OR name = ?1 ORDER BY seq LIMIT 1"))?;
    stmt.query_row([id_or_name], partner_record)
        .optional()?
        .map(PartnerRecord::into_partner)
        .transpose()
}

fn token_event(action: AuditAction, actor: &str, token_id: &str, partner_id: &str, now: Timestamp) -> AuditEvent {
    AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action,
        subject: format!("token:{token_id}"),
        details: serde_json::json!({ "partner": partner_id }).to_string(),
    }
}

fn insert_token(
    tx: &Transaction<'_>,
    partner: &Partner,
    token: &TokenDigest,
    label: &str,
    now: Timestamp,
) -> Result<TokenInfo, StoreError> {
    let id = new_id();
    tx.execute(
        "INSERT INTO tokens (id, partner_seq, digest, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, partner.seq, token.as_bytes().as_slice(), label, now.millis()],
    )?;
    Ok(TokenInfo {
        id,
        partner_id: partner.id.clone(),
        label: label.to_owned(),
        created_at: now,
        revoked_at: None,
    })
}

/// Stores a batch; returns each report's plan with the sequence number of those stored now.
fn insert_reports_tx(
    tx: &Transaction<'_>,
    partner: &Partner,
    reports: &[NewReport],
    actor: &str,
    now: Timestamp,
) -> Result<Vec<(Plan, Option<i64>)>, StoreError> {
    let mut stored: HashMap<String, (String, String)> = HashMap::new();
    {
        // Earlier reports under these external ids, looked up a chunk at a time; the unused
        // places of the last chunk are NULL, which matches nothing.
        const CHUNK: usize = 250;
        static FIND: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = FIND.get_or_init(|| {
            let places: Vec<String> = (2..CHUNK + 2).map(|i| format!("?{i}")).collect();
            format!(
                "SELECT external_id, id, content_digest FROM reports WHERE partner_seq = ?1 AND external_id IN ({})",
                places.join(", ")
            )
        });
        let mut find = tx.prepare_cached(sql)?;
        let externals: Vec<&str> = reports.iter().filter_map(NewReport::external_id).collect();
        for chunk in externals.chunks(CHUNK) {
            let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(CHUNK + 1);
            values.push(partner.seq.into());
            values.extend(chunk.iter().map(|e| rusqlite::types::Value::from((*e).to_owned())));
            values.resize(CHUNK + 1, rusqlite::types::Value::Null);
            let mut rows = find.query(rusqlite::params_from_iter(values))?;
            while let Some(r) = rows.next()? {
                stored.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
            }
        }
    }
    let plans = plan(reports, &stored);
    let mut insert_report = tx.prepare_cached(
        "INSERT INTO reports (id, partner_seq, external_id, content_digest, fraud_type, channel, occurred_at, received_at, \
         amount_minor, currency, aangifte, victim_age_band, tlp, description, submitter) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    let mut insert_link = tx.prepare_cached(
        "INSERT INTO report_indicators (report_seq, position, kind, value, role, derived) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut insert_change = tx.prepare_cached("INSERT INTO changes (at, change, report_seq) VALUES (?1, 'report', ?2)")?;
    let mut events = Vec::new();
    let mut created: Vec<&NewReport> = Vec::new();
    let mut seqs = Vec::with_capacity(plans.len());
    for (report, plan) in reports.iter().zip(&plans) {
        let Plan::New { id } = plan else {
            seqs.push(None);
            continue;
        };
        insert_report.execute(params![
            id,
            partner.seq,
            report.external_id(),
            report.content_digest(),
            report.fraud_type().as_str(),
            report.channel().map(|c| c.as_str()),
            report.occurred_at().millis(),
            now.millis(),
            report.amount().map(|m| m.minor()),
            report.amount().map(|m| m.currency().code().to_owned()),
            i64::from(report.aangifte()),
            report.victim_age_band().as_str(),
            report.tlp().as_str(),
            report.description(),
            report.submitter(),
        ])?;
        let seq = tx.last_insert_rowid();
        for (position, named) in report.indicators().iter().enumerate() {
            insert_link.execute(params![
                seq,
                position as i64,
                named.indicator.kind().as_str(),
                named.indicator.canonical(),
                named.role.as_str(),
                i64::from(named.derived)
            ])?;
        }
        insert_change.execute(params![now.millis(), seq])?;
        events.push(report_created_event(actor, id, report, now));
        created.push(report);
        seqs.push(Some(seq));
    }
    let mut upsert_indicator = tx.prepare_cached(upsert_indicator_sql())?;
    for d in indicator_deltas(created.into_iter()) {
        let mut values: Vec<rusqlite::types::Value> = vec![
            d.kind.as_str().to_owned().into(),
            d.value.into(),
            d.reports.into(),
            d.first_seen.into(),
            d.last_seen.into(),
            d.country.into(),
            d.bank_code.into(),
            i64::from(d.mixed_script).into(),
            i64::from(d.confusable).into(),
        ];
        values.extend(d.fraud_types.iter().map(|n| rusqlite::types::Value::from(*n)));
        upsert_indicator.execute(rusqlite::params_from_iter(values))?;
    }
    append_audit_tx(tx, &events)?;
    Ok(plans.into_iter().zip(seqs).collect())
}

/// The upsert of one indicator record's aggregates, with one parameter per fraud type.
fn upsert_indicator_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let columns = fraud_type_columns();
        let placeholders: Vec<String> = (10..10 + FraudType::ALL.len()).map(|i| format!("?{i}")).collect();
        let sums: Vec<String> = FraudType::ALL
            .iter()
            .map(|t| format!("{0} = {0} + excluded.{0}", fraud_type_column(*t)))
            .collect();
        format!(
            "INSERT INTO indicators (kind, value, reports, first_seen, last_seen, country, bank_code, mixed_script, confusable, {columns}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {}) \
             ON CONFLICT (kind, value) DO UPDATE SET reports = reports + excluded.reports, \
             first_seen = min(coalesce(first_seen, excluded.first_seen), excluded.first_seen), \
             last_seen = max(coalesce(last_seen, excluded.last_seen), excluded.last_seen), {}",
            placeholders.join(", "),
            sums.join(", ")
        )
    })
}

/// Takes one report of `fraud_type` out of an indicator record's counts. First and last
/// seen keep spanning every report ever filed (see ARCHITECTURE.md): recomputing them would
/// need an index on every link by value, which costs more on every write than it is worth.
fn recount_indicator(tx: &Transaction<'_>, kind: &str, value: &str, fraud_type: FraudType) -> Result<(), StoreError> {
    let column = fraud_type_column(fraud_type);
    tx.execute(
        &format!("UPDATE indicators SET reports = reports - 1, {column} = {column} - 1 WHERE kind = ?1 AND value = ?2"),
        params![kind, value],
    )?;
    Ok(())
}

/// The indicators a report names, in order.
fn report_indicators(conn: &Connection, report_seq: i64) -> Result<Vec<(IndicatorKind, String)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT kind, value FROM report_indicators WHERE report_seq = ?1 ORDER BY position")?;
    stmt.query_map([report_seq], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .map(|row| {
            let (kind, value) = row?;
            Ok((parse_key(&kind, "indicator kind", IndicatorKind::from_key)?, value))
        })
        .collect()
}

fn change_from_record(conn: &Connection, record: ChangeRecord) -> Result<Option<Change>, StoreError> {
    let at = Timestamp::from_millis(record.at);
    let event = match record.change.as_str() {
        "report" => match load_report(conn, record.report_seq, None)? {
            Some(report) => ChangeEvent::Report(Box::new(report)),
            None => return Ok(None),
        },
        "retraction" => {
            let report_seq = record.report_seq.unwrap_or(0);
            ChangeEvent::Retraction {
                report_seq,
                indicators: report_indicators(conn, report_seq)?,
            }
        }
        "review" => {
            let report_seq = record.report_seq.unwrap_or(0);
            ChangeEvent::Review {
                report_seq,
                review: parse_key(record.status.as_deref().unwrap_or(""), "review outcome", CitizenReview::from_key)?,
                indicators: report_indicators(conn, report_seq)?,
            }
        }
        "status" => ChangeEvent::Status {
            kind: parse_key(record.kind.as_deref().unwrap_or(""), "indicator kind", IndicatorKind::from_key)?,
            value: record.value.unwrap_or_default(),
            status: parse_key(
                record.status.as_deref().unwrap_or(""),
                "indicator status",
                IndicatorStatus::from_key,
            )?,
        },
        other => return Err(StoreError::Corrupt(format!("unknown change `{other}`"))),
    };
    Ok(Some(Change {
        seq: record.seq,
        at,
        event,
    }))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }

    async fn create_partner(
        &self,
        name: &str,
        kind: PartnerKind,
        token: &TokenDigest,
        token_label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(Partner, TokenInfo), StoreError> {
        let (name, token, token_label, actor) = (name.to_owned(), *token, token_label.to_owned(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = new_id();
            tx.execute(
                "INSERT INTO partners (id, name, kind, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, kind.as_str(), now.millis()],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::DuplicatePartner(name.clone())
                } else {
                    e.into()
                }
            })?;
            let partner = Partner {
                seq: tx.last_insert_rowid(),
                id: id.clone(),
                name: name.clone(),
                kind,
                created_at: now,
            };
            let info = insert_token(&tx, &partner, &token, &token_label, now)?;
            let created = AuditEvent {
                at: now,
                actor: actor.clone(),
                action: AuditAction::PartnerCreate,
                subject: format!("partner:{id}"),
                details: serde_json::json!({ "kind": kind.as_str() }).to_string(),
            };
            append_audit_tx(&tx, &[created, token_event(AuditAction::TokenCreate, &actor, &info.id, &id, now)])?;
            tx.commit()?;
            Ok((partner, info))
        })
        .await
    }

    async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!("{PARTNER_SELECT} WHERE kind <> 'citizen' ORDER BY seq"))?;
            let records = stmt.query_map([], partner_record)?.collect::<Result<Vec<_>, _>>()?;
            records.into_iter().map(PartnerRecord::into_partner).collect()
        })
        .await
    }

    async fn partner(&self, id_or_name: &str) -> Result<Option<Partner>, StoreError> {
        let key = id_or_name.to_owned();
        self.read(move |conn| partner_by(conn, &key)).await
    }

    async fn add_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError> {
        let (partner_id, token, label, actor) = (partner_id.to_owned(), *token, label.to_owned(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let partner = partner_by(&tx, &partner_id)?
                .filter(|p| p.kind != PartnerKind::Citizen)
                .ok_or_else(|| StoreError::UnknownPartner(partner_id.clone()))?;
            let info = insert_token(&tx, &partner, &token, &label, now)?;
            append_audit_tx(&tx, &[token_event(AuditAction::TokenCreate, &actor, &info.id, &partner.id, now)])?;
            tx.commit()?;
            Ok(info)
        })
        .await
    }

    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let partner_id = partner_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT t.id, p.id, t.label, t.created_at, t.revoked_at FROM tokens t JOIN partners p ON p.seq = t.partner_seq \
                 WHERE p.id = ?1 OR p.name = ?1 ORDER BY t.created_at",
            )?;
            let rows = stmt.query_map([&partner_id], |r| {
                Ok(TokenRecord {
                    id: r.get(0)?,
                    partner_id: r.get(1)?,
                    label: r.get(2)?,
                    created_at: r.get(3)?,
                    revoked_at: r.get(4)?,
                })
            })?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(TokenRecord::into_info)
                .collect())
        })
        .await
    }

    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError> {
        let (token_id, actor) = (token_id.to_owned(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let partner_id: Option<String> = tx
                .query_row(
                    "SELECT p.id FROM tokens t JOIN partners p ON p.seq = t.partner_seq WHERE t.id = ?1 AND t.revoked_at IS NULL",
                    [&token_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(partner_id) = partner_id else { return Ok(false) };
            tx.execute("UPDATE tokens SET revoked_at = ?1 WHERE id = ?2", params![now.millis(), token_id])?;
            append_audit_tx(&tx, &[token_event(AuditAction::TokenRevoke, &actor, &token_id, &partner_id, now)])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError> {
        let token = *token;
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT p.seq, p.id, p.name, p.kind, p.created_at FROM tokens t JOIN partners p ON p.seq = t.partner_seq \
                 WHERE t.digest = ?1 AND t.revoked_at IS NULL",
            )?;
            stmt.query_row([token.as_bytes().as_slice()], partner_record)
                .optional()?
                .map(PartnerRecord::into_partner)
                .transpose()
        })
        .await
    }

    async fn insert_reports(
        &self,
        partner: &Partner,
        reports: &[NewReport],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        if reports.len() > MAX_INSERT_BATCH {
            return Err(StoreError::Database(format!("a batch holds at most {MAX_INSERT_BATCH} reports")));
        }
        let (partner, reports, actor) = (partner.clone(), reports.to_vec(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let plans = insert_reports_tx(&tx, &partner, &reports, &actor, now)?;
            tx.commit()?;
            let mut outcomes = Vec::with_capacity(plans.len());
            for (report, (plan, seq)) in reports.iter().zip(plans) {
                outcomes.push(match plan {
                    Plan::New { id } => InsertOutcome::Created(stored_from_new(&partner, seq.unwrap_or(0), &id, report, now)),
                    Plan::Existing { id } => InsertOutcome::Existing { id },
                    Plan::Conflict { id } => InsertOutcome::Conflict { existing_id: id },
                });
            }
            Ok(outcomes)
        })
        .await
    }

    async fn retract_report(
        &self,
        report_id: &str,
        by: &Partner,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<RetractOutcome, StoreError> {
        let (report_id, by, reason) = (report_id.to_owned(), by.clone(), reason.map(str::to_owned));
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(report) = load_report(&tx, None, Some(&report_id))? else {
                return Ok(RetractOutcome::NotFound);
            };
            if report.partner_seq != by.seq && !by.kind.may_retract_any_report() {
                return Ok(RetractOutcome::NotAllowed);
            }
            if report.retraction.is_some() {
                return Ok(RetractOutcome::AlreadyRetracted(report));
            }
            tx.execute(
                "INSERT INTO retractions (report_seq, by_partner_seq, reason, at) VALUES (?1, ?2, ?3, ?4)",
                params![report.seq, by.seq, reason, now.millis()],
            )?;
            for named in &report.indicators {
                recount_indicator(&tx, named.kind.as_str(), &named.value, report.fraud_type)?;
            }
            tx.execute(
                "INSERT INTO changes (at, change, report_seq) VALUES (?1, 'retraction', ?2)",
                params![now.millis(), report.seq],
            )?;
            append_audit_tx(&tx, &[report_retracted_event(&by.actor(), &report.id, now)])?;
            let retracted = load_report(&tx, Some(report.seq), None)?;
            tx.commit()?;
            Ok(retracted.map_or(RetractOutcome::NotFound, RetractOutcome::Retracted))
        })
        .await
    }

    async fn report(&self, id: &str) -> Result<Option<StoredReport>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| load_report(conn, None, Some(&id))).await
    }

    async fn reports_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredReport>, StoreError> {
        let seqs = seqs.to_vec();
        self.read(move |conn| {
            let mut out = Vec::with_capacity(seqs.len());
            for seq in seqs {
                if let Some(report) = load_report(conn, Some(seq), None)? {
                    out.push(report);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn set_indicator_status(
        &self,
        kind: IndicatorKind,
        value: &str,
        status: IndicatorStatus,
        reason: Option<&str>,
        actor: &str,
        audit_subject: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let (value, reason, actor, subject) = (
            value.to_owned(),
            reason.map(str::to_owned),
            actor.to_owned(),
            audit_subject.to_owned(),
        );
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO indicators (kind, value, status, status_reason, status_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (kind, value) DO UPDATE SET status = excluded.status, status_reason = excluded.status_reason, \
                 status_at = excluded.status_at",
                params![kind.as_str(), value, status.as_str(), reason, now.millis()],
            )?;
            tx.execute(
                "INSERT INTO changes (at, change, kind, value, status) VALUES (?1, 'status', ?2, ?3, ?4)",
                params![now.millis(), kind.as_str(), value, status.as_str()],
            )?;
            let position = tx.last_insert_rowid();
            tx.execute(
                "UPDATE indicators SET status_seq = ?3 WHERE kind = ?1 AND value = ?2",
                params![kind.as_str(), value, position],
            )?;
            let event = AuditEvent {
                at: now,
                actor,
                action: AuditAction::IndicatorStatus,
                subject,
                details: serde_json::json!({ "status": status.as_str() }).to_string(),
            };
            append_audit_tx(&tx, &[event])?;
            tx.commit()?;
            Ok(position)
        })
        .await
    }

    async fn review_citizen_report(
        &self,
        report_id: &str,
        review: CitizenReview,
        by: &Partner,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<ReviewOutcome, StoreError> {
        let (report_id, by, note) = (report_id.to_owned(), by.clone(), note.map(str::to_owned));
        self.write(move |conn| citizen_reviews::review(conn, &report_id, review, &by, note.as_deref(), now))
            .await
    }

    async fn citizen_reports(&self, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.read(move |conn| citizen_reviews::queue(conn, review, after, limit)).await
    }

    async fn indicator(&self, kind: IndicatorKind, value: &str) -> Result<Option<IndicatorRow>, StoreError> {
        let value = value.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{} WHERE kind = ?1 AND value = ?2", indicator_select()))?;
            stmt.query_row(params![kind.as_str(), value], |r| {
                Ok(IndicatorRowRecord {
                    kind: r.get(0)?,
                    value: r.get(1)?,
                    status: r.get(2)?,
                    status_reason: r.get(3)?,
                    status_at: r.get(4)?,
                    reports: r.get(5)?,
                    first_seen: r.get(6)?,
                    last_seen: r.get(7)?,
                    country: r.get(8)?,
                    bank_code: r.get(9)?,
                    mixed_script: r.get(10)?,
                    confusable: r.get(11)?,
                    fraud_types: {
                        let mut counts = [0i64; vangnet_core::report::FRAUD_TYPE_COUNT];
                        for (i, count) in counts.iter_mut().enumerate() {
                            *count = r.get(12 + i)?;
                        }
                        counts
                    },
                })
            })
            .optional()?
            .map(IndicatorRowRecord::into_row)
            .transpose()
        })
        .await
    }

    async fn load_index(&self, mut index: IndicatorIndex) -> Result<(IndicatorIndex, i64), StoreError> {
        self.read(move |conn| {
            // One read transaction: the links, the statuses and the feed position come from
            // the same snapshot, so following the feed from there misses nothing.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let head: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| r.get(0))?;
            {
                let mut stmt = tx.prepare(LINK_SELECT)?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    LinkRecord {
                        kind: r.get(0)?,
                        value: r.get(1)?,
                        report_seq: r.get(2)?,
                        partner_seq: r.get(3)?,
                        partner_kind: r.get(4)?,
                        fraud_type: r.get(5)?,
                        tlp: r.get(6)?,
                        occurred_at: r.get(7)?,
                        amount_minor: r.get(8)?,
                        currency: r.get(9)?,
                        aangifte: r.get(10)?,
                        submitter: r.get(11)?,
                        review: r.get(12)?,
                    }
                    .add_to(&mut index)?;
                }
                let mut stmt =
                    tx.prepare("SELECT kind, value, status, status_seq FROM indicators WHERE status <> 'active' OR status_seq > 0")?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    let kind = parse_key(&r.get::<_, String>(0)?, "indicator kind", IndicatorKind::from_key)?;
                    let status = parse_key(&r.get::<_, String>(2)?, "indicator status", IndicatorStatus::from_key)?;
                    let key = index.key(kind, &r.get::<_, String>(1)?);
                    index.set_status(key, status, r.get(3)?);
                }
            }
            tx.commit()?;
            Ok((index, head))
        })
        .await
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
        self.read(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let records = {
                let mut stmt = tx.prepare_cached(&format!("{CHANGE_SELECT} WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
                stmt.query_map(params![after, limit], |r| {
                    Ok(ChangeRecord {
                        seq: r.get(0)?,
                        at: r.get(1)?,
                        change: r.get(2)?,
                        report_seq: r.get(3)?,
                        kind: r.get(4)?,
                        value: r.get(5)?,
                        status: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?
            };
            let mut changes = Vec::with_capacity(records.len());
            for record in records {
                if let Some(change) = change_from_record(&tx, record)? {
                    changes.push(change);
                }
            }
            tx.commit()?;
            Ok(changes)
        })
        .await
    }

    async fn feed_head(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| r.get(0))?))
            .await
    }

    async fn prune_changes(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.write(move |conn| Ok(conn.execute("DELETE FROM changes WHERE at < ?1", [before.millis()])? as u64))
            .await
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let events = events.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            append_audit_tx(&tx, &events)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{AUDIT_SELECT} WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
            let rows = stmt.query_map(params![after, limit], audit_record)?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(AuditRecord::into_entry)
                .collect())
        })
        .await
    }

    async fn audit_entries_of(&self, actor: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let actor = actor.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{AUDIT_SELECT} WHERE actor = ?1 ORDER BY seq DESC LIMIT ?2"))?;
            let rows = stmt.query_map(params![actor, limit], audit_record)?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(AuditRecord::into_entry)
                .collect())
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.read(|conn| {
            let head: Option<(i64, String)> = conn
                .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(head.map(|(seq, hash)| (u64::try_from(seq).unwrap_or(0), hash)))
        })
        .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn add_call_numbers(
        &self,
        list: &str,
        numbers: &[String],
        owner: &Partner,
        state: CallEntryState,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CallListAdd>, StoreError> {
        let (list, numbers, owner, actor) = (list.to_owned(), numbers.to_vec(), owner.clone(), actor.to_owned());
        self.write(move |conn| call_lists::add(conn, &list, &numbers, &owner, state, &actor, now))
            .await
    }

    async fn approve_call_number(&self, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError> {
        let (list, e164, actor) = (list.to_owned(), e164.to_owned(), actor.to_owned());
        self.write(move |conn| call_lists::approve(conn, &list, &e164, &actor, now)).await
    }

    async fn remove_call_number(
        &self,
        list: &str,
        e164: &str,
        owner: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<CallListRemove, StoreError> {
        let (list, e164, actor) = (list.to_owned(), e164.to_owned(), actor.to_owned());
        self.write(move |conn| call_lists::remove(conn, &list, &e164, owner, &actor, now))
            .await
    }

    async fn call_numbers(&self, list: &str) -> Result<Vec<String>, StoreError> {
        let list = list.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT e164 FROM call_numbers WHERE list = ?1 AND state = 'active' ORDER BY e164")?;
            let rows = stmt.query_map([list], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }

    async fn call_list_entries(&self, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
        let list = list.to_owned();
        self.read(move |conn| call_lists::entries(conn, &list, owner)).await
    }

    async fn call_list_entry(&self, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
        let (list, e164) = (list.to_owned(), e164.to_owned());
        self.read(move |conn| call_lists::entry(conn, &list, &e164)).await
    }

    async fn call_list_history(&self, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
        let (list, e164) = (list.to_owned(), e164.to_owned());
        self.read(move |conn| call_lists::history(conn, &list, &e164)).await
    }

    async fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool, now: Timestamp) -> Result<(), StoreError> {
        let subscriber_ref = subscriber_ref.to_owned();
        self.write(move |conn| {
            if opted_out {
                conn.execute(
                    "INSERT INTO signal_opt_outs (subscriber_ref, at) VALUES (?1, ?2) ON CONFLICT (subscriber_ref) DO NOTHING",
                    params![subscriber_ref, now.millis()],
                )?;
            } else {
                conn.execute("DELETE FROM signal_opt_outs WHERE subscriber_ref = ?1", [subscriber_ref])?;
            }
            Ok(())
        })
        .await
    }

    async fn opt_outs(&self) -> Result<Vec<String>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT subscriber_ref FROM signal_opt_outs")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }

    async fn pnbf_open(&self, case: &PnbfCaseRow, event: &PnbfEventRow) -> Result<(), StoreError> {
        let (case, event) = (case.clone(), event.clone());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                &format!("INSERT INTO pnbf_cases ({PNBF_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    case.id,
                    case.victim_bank,
                    case.payee_bank,
                    case.state,
                    case.version,
                    case.opened_at.millis(),
                    case.updated_at.millis(),
                    case.term_ends.map(Timestamp::millis),
                    case.remind_at.map(Timestamp::millis),
                    case.naw_delete_at.map(Timestamp::millis),
                    case.link_digest,
                    case.body,
                    case.naw
                ],
            )?;
            insert_pnbf_event(&tx, &event)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn pnbf_case(&self, id: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE id = ?1"))?;
            Ok(stmt.query_row([id], pnbf_case_row).optional()?)
        })
        .await
    }

    async fn pnbf_case_by_link(&self, link_digest: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let digest = link_digest.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE link_digest = ?1"))?;
            Ok(stmt.query_row([digest], pnbf_case_row).optional()?)
        })
        .await
    }

    async fn pnbf_update(&self, case: &PnbfCaseRow, expected_version: i64, event: &PnbfEventRow) -> Result<bool, StoreError> {
        let (case, event) = (case.clone(), event.clone());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE pnbf_cases SET payee_bank = ?3, state = ?4, version = ?5, updated_at = ?6, term_ends = ?7, \
                 remind_at = ?8, naw_delete_at = ?9, body = ?10, naw = ?11, link_digest = ?12 WHERE id = ?1 AND version = ?2",
                params![
                    case.id,
                    expected_version,
                    case.payee_bank,
                    case.state,
                    case.version,
                    case.updated_at.millis(),
                    case.term_ends.map(Timestamp::millis),
                    case.remind_at.map(Timestamp::millis),
                    case.naw_delete_at.map(Timestamp::millis),
                    case.body,
                    case.naw,
                    case.link_digest
                ],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            insert_pnbf_event(&tx, &event)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn pnbf_events(&self, case_id: &str) -> Result<Vec<PnbfEventRow>, StoreError> {
        let id = case_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {PNBF_EVENT_COLUMNS} FROM pnbf_events WHERE case_id = ?1 ORDER BY seq"
            ))?;
            let rows = stmt.query_map([id], pnbf_event_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn pnbf_cases(&self, partner_seq: Option<i64>) -> Result<Vec<PnbfCaseRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE ?1 IS NULL OR victim_bank = ?1 OR payee_bank = ?1 ORDER BY opened_at DESC, id"
            ))?;
            let rows = stmt.query_map([partner_seq], pnbf_case_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn pnbf_due(&self, now: Timestamp) -> Result<Vec<PnbfCaseRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE term_ends <= ?1 UNION \
                 SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE remind_at <= ?1 UNION \
                 SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE naw_delete_at <= ?1 ORDER BY opened_at, id"
            ))?;
            let rows = stmt.query_map([now.millis()], pnbf_case_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn pnbf_set_bank_code(&self, code: &str, partner_seq: Option<i64>, now: Timestamp) -> Result<(), StoreError> {
        let code = code.to_owned();
        self.write(move |conn| {
            match partner_seq {
                Some(seq) => conn.execute(
                    "INSERT INTO pnbf_bank_codes (code, partner_seq, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (code) DO UPDATE SET partner_seq = excluded.partner_seq, updated_at = excluded.updated_at",
                    params![code, seq, now.millis()],
                )?,
                None => conn.execute("DELETE FROM pnbf_bank_codes WHERE code = ?1", [code])?,
            };
            Ok(())
        })
        .await
    }

    async fn pnbf_bank_codes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT code, partner_seq FROM pnbf_bank_codes ORDER BY code")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn store_decisions(&self, writes: &[DecisionWrite]) -> Result<Vec<DecisionOutcome>, StoreError> {
        let writes = writes.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = Vec::with_capacity(writes.len());
            {
                let mut find = tx.prepare_cached(&format!("{DECISION_SELECT} WHERE partner_seq = ?1 AND payment_id = ?2"))?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO payment_decisions (partner_seq, payment_id, request_digest, decided_at, decision, score, reasons, rules_version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                let mut payer = tx.prepare_cached(
                    "INSERT INTO payer_profiles (payer, state, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (payer) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )?;
                let mut account = tx.prepare_cached(
                    "INSERT INTO account_activity (account, state, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (account) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )?;
                for w in &writes {
                    let d = &w.decision;
                    if let Some(existing) = find.query_row(params![w.partner_seq, d.payment_id], decision_row).optional()? {
                        out.push(DecisionOutcome::Existing(existing));
                        continue;
                    }
                    insert.execute(params![
                        w.partner_seq,
                        d.payment_id,
                        d.request_digest,
                        d.decided_at.millis(),
                        d.decision,
                        d.score,
                        d.reasons,
                        d.rules_version
                    ])?;
                    let at = d.decided_at.millis();
                    if let Some(p) = &w.payer {
                        payer.execute(params![p.key, p.state, at])?;
                    }
                    for a in &w.accounts {
                        account.execute(params![a.key, a.state, at])?;
                    }
                    out.push(DecisionOutcome::Stored);
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn payment_decisions(&self, partner_seq: i64, payment_ids: &[String]) -> Result<Vec<PaymentDecisionRow>, StoreError> {
        if payment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = payment_ids.to_vec();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in ids.chunks(500) {
                let marks = vec!["?"; chunk.len()].join(", ");
                let mut stmt = conn.prepare(&format!("{DECISION_SELECT} WHERE partner_seq = ? AND payment_id IN ({marks})"))?;
                let mut values: Vec<rusqlite::types::Value> = vec![partner_seq.into()];
                values.extend(chunk.iter().map(|id| rusqlite::types::Value::from(id.clone())));
                let rows = stmt.query_map(rusqlite::params_from_iter(values), decision_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn payment_decision(&self, partner_seq: i64, payment_id: &str) -> Result<Option<PaymentDecisionRow>, StoreError> {
        let payment_id = payment_id.to_owned();
        self.read(move |conn| {
            let mut find = conn.prepare_cached(&format!("{DECISION_SELECT} WHERE partner_seq = ?1 AND payment_id = ?2"))?;
            Ok(find.query_row(params![partner_seq, payment_id], decision_row).optional()?)
        })
        .await
    }

    async fn screening_state(&self, limit: u32) -> Result<(Vec<StateBlob>, Vec<StateBlob>), StoreError> {
        self.read(move |conn| {
            let load = |sql: &str| -> Result<Vec<StateBlob>, StoreError> {
                let mut stmt = conn.prepare(sql)?;
                let rows = stmt.query_map([limit], |r| {
                    Ok(StateBlob {
                        key: r.get(0)?,
                        state: r.get(1)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            };
            let payers = load("SELECT payer, state FROM payer_profiles ORDER BY updated_at DESC LIMIT ?1")?;
            let accounts = load("SELECT account, state FROM account_activity ORDER BY updated_at DESC LIMIT ?1")?;
            Ok((payers, accounts))
        })
        .await
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )?;
            Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))?)
        })
        .await
    }
}

const DECISION_SELECT: &str =
    "SELECT payment_id, request_digest, decided_at, decision, score, reasons, rules_version FROM payment_decisions";

fn decision_row(r: &Row<'_>) -> rusqlite::Result<PaymentDecisionRow> {
    Ok(PaymentDecisionRow {
        payment_id: r.get(0)?,
        request_digest: r.get(1)?,
        decided_at: Timestamp::from_millis(r.get(2)?),
        decision: r.get(3)?,
        score: r.get(4)?,
        reasons: r.get(5)?,
        rules_version: r.get(6)?,
    })
}

fn audit_record(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        details: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

fn pnbf_case_row(r: &Row<'_>) -> rusqlite::Result<PnbfCaseRow> {
    let at = |i: usize| -> rusqlite::Result<Option<Timestamp>> { Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp::from_millis)) };
    Ok(PnbfCaseRow {
        id: r.get(0)?,
        victim_bank: r.get(1)?,
        payee_bank: r.get(2)?,
        state: r.get(3)?,
        version: r.get(4)?,
        opened_at: Timestamp::from_millis(r.get(5)?),
        updated_at: Timestamp::from_millis(r.get(6)?),
        term_ends: at(7)?,
        remind_at: at(8)?,
        naw_delete_at: at(9)?,
        link_digest: r.get(10)?,
        body: r.get(11)?,
        naw: r.get(12)?,
    })
}

fn pnbf_event_row(r: &Row<'_>) -> rusqlite::Result<PnbfEventRow> {
    Ok(PnbfEventRow {
        case_id: r.get(0)?,
        seq: r.get(1)?,
        at: Timestamp::from_millis(r.get(2)?),
        actor: r.get(3)?,
        side: r.get(4)?,
        event: r.get(5)?,
        from_state: r.get(6)?,
        to_state: r.get(7)?,
        reason: r.get(8)?,
        details: r.get(9)?,
    })
}

fn insert_pnbf_event(tx: &Transaction<'_>, e: &PnbfEventRow) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO pnbf_events ({PNBF_EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            e.case_id,
            e.seq,
            e.at.millis(),
            e.actor,
            e.side,
            e.event,
            e.from_state,
            e.to_state,
            e.reason,
            e.details
        ],
    )?;
    Ok(())
}
