//! The PostgreSQL store: for several server nodes sharing one database.
//!
//! Batches go to the server as arrays (`UNNEST`), so storing a thousand reports takes a
//! handful of round trips rather than thousands. The audit chain is serialised across nodes
//! by locking its head row (`SELECT … FOR UPDATE`) in the writing transaction, and indicator
//! rows are written in a fixed order so concurrent batches cannot deadlock.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, Row, Transaction};
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
    (1, include_str!("../../migrations/postgres/0001_registry.sql")),
    (2, include_str!("../../migrations/postgres/0002_citizen_reports.sql")),
    (3, include_str!("../../migrations/postgres/0003_payment_screening.sql")),
    (4, include_str!("../../migrations/postgres/0004_call_screening.sql")),
    (5, include_str!("../../migrations/postgres/0005_pnbf.sql")),
    (6, include_str!("../../migrations/postgres/0006_citizen_review.sql")),
    (7, include_str!("../../migrations/postgres/0007_status_position.sql")),
    (8, include_str!("../../migrations/postgres/0008_call_list_owners.sql")),
    (9, include_str!("../../migrations/postgres/0009_email_lower_case.sql")),
    (10, include_str!("../../migrations/postgres/0010_token_labels.sql")),
    (11, include_str!("../../migrations/postgres/0011_disputes.sql")),
    (12, include_str!("../../migrations/postgres/0012_dispute_requests.sql")),
    (13, include_str!("../../migrations/postgres/0013_token_scopes.sql")),
    (14, include_str!("../../migrations/postgres/0014_subject_access.sql")),
    (15, include_str!("../../migrations/postgres/0015_mules.sql")),
];
/// Key of the advisory lock that keeps two nodes from migrating at once.
const MIGRATION_LOCK: i64 = 0x0076_616e_676e_6574;
const POOL_SIZE: u32 = 16;

/// The PostgreSQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

type Tx<'a> = Transaction<'a, Postgres>;

fn sql(text: String) -> AssertSqlSafe<String> {
    // Every dynamic statement is built from this crate's own constant SQL text; values are
    // always bound as parameters.
    AssertSqlSafe(text)
}

impl PostgresStore {
    /// Connects and migrates.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        Self::connect_with_durability(url, Durability::Full).await
    }

    /// Connects with the given durability: `Bulk` turns off `synchronous_commit` for this
    /// store's sessions (commits may be lost on a crash, never corrupted).
    pub async fn connect_with_durability(url: &str, durability: Durability) -> Result<PostgresStore, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(|_| StoreError::Url(crate::describe_url(url)))?;
        let options = match durability {
            Durability::Full => options,
            Durability::Bulk => options.options([("synchronous_commit", "off")]),
        };
        Self::connect_with(options).await
    }

    /// Connects with every table in `schema` (created if missing): lets tests and several
    /// registries share one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(StoreError::Url(format!(
                "schema name `{schema}` must be lower-case letters, digits and _"
            )));
        }
        let options: PgConnectOptions = url.parse().map_err(|_| StoreError::Url(crate::describe_url(url)))?;
        let setup = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        sqlx::query(sql(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
            .execute(&setup)
            .await?;
        setup.close().await;
        Self::connect_with(options.options([("search_path", schema)])).await
    }

    async fn connect_with(options: PgConnectOptions) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.application_name("vangnet"))
            .await?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        for (version, text) in MIGRATIONS {
            let applied: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)")
                .bind(version)
                .fetch_one(&mut *tx)
                .await?;
            if !applied {
                sqlx::raw_sql(AssertSqlSafe(*text))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::Migration {
                        version: *version,
                        message: e.to_string(),
                    })?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(Timestamp::now().millis())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The connection pool, for tests that need to reach behind the store.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

const DECISION_SELECT: &str =
    "SELECT payment_id, request_digest, decided_at, decision, score, reasons, rules_version FROM payment_decisions";

const PARTNER_SELECT: &str = "SELECT seq, id, name, kind, created_at FROM partners";

fn report_record(r: &PgRow) -> Result<ReportRecord, sqlx::Error> {
    Ok(ReportRecord {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        partner_seq: r.try_get(2)?,
        partner_id: r.try_get(3)?,
        partner_name: r.try_get(4)?,
        partner_kind: r.try_get(5)?,
        external_id: r.try_get(6)?,
        fraud_type: r.try_get(7)?,
        channel: r.try_get(8)?,
        occurred_at: r.try_get(9)?,
        received_at: r.try_get(10)?,
        amount_minor: r.try_get(11)?,
        currency: r.try_get(12)?,
        aangifte: r.try_get(13)?,
        victim_age_band: r.try_get(14)?,
        tlp: r.try_get(15)?,
        description: r.try_get(16)?,
        retracted_at: r.try_get(17)?,
        retracted_by: r.try_get(18)?,
        retraction_reason: r.try_get(19)?,
        submitter: r.try_get(20)?,
        review_outcome: r.try_get(21)?,
        reviewed_at: r.try_get(22)?,
        reviewed_by: r.try_get(23)?,
        review_note: r.try_get(24)?,
    })
}

/// Loads reports with their indicators; `filter` selects on `r`.
async fn load_reports(
    conn: &mut PgConnection,
    filter: &str,
    seqs: Option<&[i64]>,
    ids: Option<&[String]>,
) -> Result<Vec<StoredReport>, StoreError> {
    let query = sql(format!("{REPORT_SELECT} WHERE {filter}"));
    let rows = match (seqs, ids) {
        (Some(seqs), _) => sqlx::query(query).bind(seqs).fetch_all(&mut *conn).await?,
        (None, Some(ids)) => sqlx::query(query).bind(ids).fetch_all(&mut *conn).await?,
        (None, None) => Vec::new(),
    };
    let records = rows.iter().map(report_record).collect::<Result<Vec<_>, _>>()?;
    let report_seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    let links = sqlx::query(
        "SELECT report_seq, kind, value, role, derived FROM report_indicators WHERE report_seq = ANY($1) ORDER BY report_seq, position",
    )
    .bind(&report_seqs)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_report: HashMap<i64, Vec<IndicatorRecord>> = HashMap::new();
    for r in &links {
        by_report.entry(r.try_get(0)?).or_default().push(IndicatorRecord {
            kind: r.try_get(1)?,
            value: r.try_get(2)?,
            role: r.try_get(3)?,
            derived: r.try_get(4)?,
        });
    }
    records
        .into_iter()
        .map(|record| {
            let indicators = by_report.remove(&record.seq).unwrap_or_default();
            record.into_report(indicators)
        })
        .collect()
}

async fn report_by_id(tx: &mut Tx<'_>, id: &str) -> Result<Option<StoredReport>, StoreError> {
    Ok(load_reports(tx, "r.id = ANY($1)", None, Some(&[id.to_owned()])).await?.pop())
}

async fn append_audit_tx(tx: &mut Tx<'_>, events: &[AuditEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut **tx)
        .await?;
    let (mut seq, mut hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let mut entries = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let entry = AuditEntry::chain(event, u64::try_from(seq).unwrap_or(0), &hash);
        hash.clone_from(&entry.hash);
        entries.push(entry);
    }
    let column = |f: fn(&AuditEntry) -> String| entries.iter().map(f).collect::<Vec<String>>();
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])",
    )
    .bind(entries.iter().map(|e| i64::try_from(e.seq).unwrap_or(i64::MAX)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.at.millis()).collect::<Vec<_>>())
    .bind(column(|e| e.actor.clone()))
    .bind(column(|e| e.action.clone()))
    .bind(column(|e| e.subject.clone()))
    .bind(column(|e| e.details.clone()))
    .bind(column(|e| e.prev_hash.clone()))
    .bind(column(|e| e.hash.clone()))
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The indicators a report names, in order.
async fn report_indicators(tx: &mut Tx<'_>, report_seq: i64) -> Result<Vec<(IndicatorKind, String)>, StoreError> {
    let rows = sqlx::query("SELECT kind, value FROM report_indicators WHERE report_seq = $1 ORDER BY position")
        .bind(report_seq)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get(0)?;
            Ok((
                parse_key(&kind, "indicator kind", IndicatorKind::from_key)?,
                r.try_get::<String, _>(1)?,
            ))
        })
        .collect()
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
