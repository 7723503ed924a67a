//! The SQLite store: the embedded default, one file in WAL mode.
//!
//! One writer connection (SQLite allows one writer at a time anyway) and a few reader
//! connections, which WAL lets run beside the writer. All database work runs on tokio's
//! blocking threads, never on the async workers. Writes use `BEGIN IMMEDIATE`, so a
//! transaction holds the write lock from its start and the audit chain cannot fork; a
//! second process (`vangnet import` beside a running server) waits up to `BUSY_TIMEOUT`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditEntry, AuditEvent};

use vangnet_core::indicator::IndicatorKind;

use crate::rows::{IndicatorRecord, REPORT_SELECT, ReportRecord};
use crate::{Backend, Durability, Store, StoreError, StoredReport, parse_key};

mod audit;
mod calls;
mod citizen_reports;
mod dispute_requests;
mod disputes;
mod mules;
mod networks;
mod partners;
mod pnbf;
mod reports;
mod retention;
mod screening;
mod settings;
mod subjects;

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
    (11, include_str!("../../migrations/sqlite/0011_disputes.sql")),
    (12, include_str!("../../migrations/sqlite/0012_dispute_requests.sql")),
    (13, include_str!("../../migrations/sqlite/0013_token_scopes.sql")),
    (14, include_str!("../../migrations/sqlite/0014_subject_access.sql")),
    (15, include_str!("../../migrations/sqlite/0015_mules.sql")),
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
    let indicators = stmt.query_map([record.seq], indicator_record)?.collect::<Result<Vec<_>, _>>()?;
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

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }
}

const DECISION_SELECT: &str =
    "SELECT payment_id, request_digest, decided_at, decision, score, reasons, rules_version FROM payment_decisions";

/// One row of `SELECT kind, value, role, derived FROM report_indicators`.
pub(crate) fn indicator_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<IndicatorRecord> {
    Ok(IndicatorRecord {
        kind: r.get(0)?,
        value: r.get(1)?,
        role: r.get(2)?,
        derived: r.get(3)?,
    })
}
