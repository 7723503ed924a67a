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
use vangnet_core::audit::{AuditAction, AuditEntry, AuditEvent};
use vangnet_core::index::{CitizenReview, IndicatorIndex, IndicatorStatus};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::{FraudType, NewReport};
use vangnet_core::token::TokenDigest;

use crate::batch::{Plan, indicator_deltas, plan, report_created_event, report_retracted_event};
use crate::rows::{
    AUDIT_SELECT, AuditRecord, CHANGE_SELECT, ChangeRecord, IndicatorRecord, IndicatorRowRecord, LINK_SELECT, LinkRecord, PartnerRecord,
    REPORT_SELECT, ReportRecord, TokenRecord, fraud_type_column, fraud_type_columns, indicator_select, stored_from_new,
};
use crate::rows::{PNBF_COLUMNS, PNBF_EVENT_COLUMNS};
use crate::{
    Backend, Change, ChangeEvent, Durability, IndicatorRow, InsertOutcome, MAX_INSERT_BATCH, Partner, RetractOutcome, Store, StoreError,
    StoredReport, TokenInfo, new_id, parse_key,
};
use crate::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, ReviewOutcome};
use crate::{DecisionOutcome, DecisionWrite, PaymentDecisionRow, PnbfCaseRow, PnbfEventRow, StateBlob};

mod call_lists;
mod citizen_reviews;

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

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

const DECISION_SELECT: &str =
    "SELECT payment_id, request_digest, decided_at, decision, score, reasons, rules_version FROM payment_decisions";

fn decision_row(r: &PgRow) -> Result<PaymentDecisionRow, StoreError> {
    Ok(PaymentDecisionRow {
        payment_id: r.try_get(0)?,
        request_digest: r.try_get(1)?,
        decided_at: Timestamp::from_millis(r.try_get(2)?),
        decision: r.try_get(3)?,
        score: r.try_get(4)?,
        reasons: r.try_get(5)?,
        rules_version: r.try_get(6)?,
    })
}

const PARTNER_SELECT: &str = "SELECT seq, id, name, kind, created_at FROM partners";

fn partner_record(r: &PgRow) -> Result<PartnerRecord, sqlx::Error> {
    Ok(PartnerRecord {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        name: r.try_get(2)?,
        kind: r.try_get(3)?,
        created_at: r.try_get(4)?,
    })
}

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

fn audit_record(r: &PgRow) -> Result<AuditRecord, sqlx::Error> {
    Ok(AuditRecord {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        subject: r.try_get(4)?,
        details: r.try_get(5)?,
        prev_hash: r.try_get(6)?,
        hash: r.try_get(7)?,
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

async fn partner_by<'c, E>(conn: E, id_or_name: &str) -> Result<Option<Partner>, StoreError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let row = sqlx::query(sql(format!("{PARTNER_SELECT} WHERE id = $1 OR name = $1 ORDER BY seq LIMIT 1")))
        .bind(id_or_name)
        .fetch_optional(conn)
        .await?;
    row.map(|r| partner_record(&r).map_err(StoreError::from).and_then(PartnerRecord::into_partner))
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

async fn insert_token(
    tx: &mut Tx<'_>,
    partner: &Partner,
    token: &TokenDigest,
    label: &str,
    now: Timestamp,
) -> Result<TokenInfo, StoreError> {
    let id = new_id();
    sqlx::query("INSERT INTO tokens (id, partner_seq, digest, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(partner.seq)
        .bind(token.as_bytes().as_slice())
        .bind(label)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    Ok(TokenInfo {
        id,
        partner_id: partner.id.clone(),
        label: label.to_owned(),
        created_at: now,
        revoked_at: None,
    })
}

/// Stores a batch; returns each report's plan with the sequence number of those stored now.
async fn insert_reports_tx(
    tx: &mut Tx<'_>,
    partner: &Partner,
    reports: &[NewReport],
    actor: &str,
    now: Timestamp,
) -> Result<Vec<(Plan, Option<i64>)>, StoreError> {
    let externals: Vec<String> = reports.iter().filter_map(|r| r.external_id().map(str::to_owned)).collect();
    let mut stored: HashMap<String, (String, String)> = HashMap::new();
    if !externals.is_empty() {
        let rows = sqlx::query("SELECT external_id, id, content_digest FROM reports WHERE partner_seq = $1 AND external_id = ANY($2)")
            .bind(partner.seq)
            .bind(&externals)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            stored.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
    }
    let plans = plan(reports, &stored);
    let created: Vec<(&NewReport, &str)> = reports
        .iter()
        .zip(&plans)
        .filter_map(|(r, p)| match p {
            Plan::New { id } => Some((r, id.as_str())),
            _ => None,
        })
        .collect();
    let mut seq_of: HashMap<String, i64> = HashMap::new();
    if !created.is_empty() {
        let ids: Vec<String> = created.iter().map(|(_, id)| (*id).to_owned()).collect();
        let rows = sqlx::query(
            "INSERT INTO reports (id, partner_seq, external_id, content_digest, fraud_type, channel, occurred_at, received_at, \
             amount_minor, currency, aangifte, victim_age_band, tlp, description, submitter) \
             SELECT u.id, $2, u.external_id, u.digest, u.fraud_type, u.channel, u.occurred_at, $3, u.amount_minor, u.currency, \
                    u.aangifte, u.age_band, u.tlp, u.description, u.submitter \
             FROM UNNEST($1::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[], \
                         $11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[]) WITH ORDINALITY \
                  AS u(id, external_id, digest, fraud_type, channel, occurred_at, amount_minor, currency, aangifte, age_band, tlp, description, \
                       submitter, n) \
             ORDER BY u.n RETURNING id, seq",
        )
        .bind(&ids)
        .bind(partner.seq)
        .bind(now.millis())
        .bind(created.iter().map(|(r, _)| r.external_id().map(str::to_owned)).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.content_digest()).collect::<Vec<&str>>())
        .bind(created.iter().map(|(r, _)| r.fraud_type().as_str()).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.channel().map(|c| c.as_str())).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.occurred_at().millis()).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.amount().map(|m| m.minor())).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.amount().map(|m| m.currency().code().to_owned())).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| i64::from(r.aangifte())).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.victim_age_band().as_str()).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.tlp().as_str()).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.description().map(str::to_owned)).collect::<Vec<_>>())
        .bind(created.iter().map(|(r, _)| r.submitter().map(str::to_owned)).collect::<Vec<_>>())
        .fetch_all(&mut **tx)
        .await?;
        for r in rows {
            seq_of.insert(r.try_get(0)?, r.try_get(1)?);
        }
        // One row per report link: report number, position, kind, value, role, derived.
        let mut links: Vec<(i64, i64, &str, &str, &str, i64)> = Vec::new();
        let mut change_seqs = Vec::with_capacity(created.len());
        let mut events = Vec::with_capacity(created.len());
        for (report, id) in &created {
            let seq = seq_of
                .get(*id)
                .copied()
                .ok_or_else(|| StoreError::Database("a stored report returned no number".into()))?;
            for (position, named) in report.indicators().iter().enumerate() {
                links.push((
                    seq,
                    position as i64,
                    named.indicator.kind().as_str(),
                    named.indicator.canonical(),
                    named.role.as_str(),
                    i64::from(named.derived),
                ));
            }
            change_seqs.push(seq);
            events.push(report_created_event(actor, id, report, now));
        }
        sqlx::query(
            "INSERT INTO report_indicators (report_seq, position, kind, value, role, derived) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
        )
        .bind(links.iter().map(|l| l.0).collect::<Vec<_>>())
        .bind(links.iter().map(|l| l.1).collect::<Vec<_>>())
        .bind(links.iter().map(|l| l.2).collect::<Vec<_>>())
        .bind(links.iter().map(|l| l.3).collect::<Vec<_>>())
        .bind(links.iter().map(|l| l.4).collect::<Vec<_>>())
        .bind(links.iter().map(|l| l.5).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        upsert_indicators(tx, created.iter().map(|(r, _)| *r)).await?;
        sqlx::query(
            "INSERT INTO changes (at, change, report_seq) SELECT $1, 'report', s FROM UNNEST($2::bigint[]) WITH ORDINALITY AS u(s, n) ORDER BY n",
        )
        .bind(now.millis())
        .bind(&change_seqs)
        .execute(&mut **tx)
        .await?;
        append_audit_tx(tx, &events).await?;
    }
    Ok(plans
        .into_iter()
        .map(|p| {
            let seq = match &p {
                Plan::New { id } => seq_of.get(id).copied(),
                _ => None,
            };
            (p, seq)
        })
        .collect())
}

async fn upsert_indicators<'a>(tx: &mut Tx<'_>, reports: impl Iterator<Item = &'a NewReport>) -> Result<(), StoreError> {
    let deltas = indicator_deltas(reports);
    let mut query = sqlx::query(upsert_indicators_sql())
        .bind(deltas.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.value.as_str()).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.reports).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.first_seen).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.last_seen).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.country.as_deref()).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.bank_code.as_deref()).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| i64::from(d.mixed_script)).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| i64::from(d.confusable)).collect::<Vec<_>>());
    for i in 0..FraudType::ALL.len() {
        query = query.bind(deltas.iter().map(|d| d.fraud_types[i]).collect::<Vec<_>>());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// The upsert of indicator records' aggregates from arrays, one array per column.
fn upsert_indicators_sql() -> AssertSqlSafe<&'static str> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = SQL.get_or_init(|| {
        let columns = fraud_type_columns();
        let arrays: Vec<String> = (10..10 + FraudType::ALL.len()).map(|i| format!("${i}::bigint[]")).collect();
        let sums: Vec<String> = FraudType::ALL
            .iter()
            .map(|t| format!("{0} = indicators.{0} + excluded.{0}", fraud_type_column(*t)))
            .collect();
        format!(
            "INSERT INTO indicators (kind, value, reports, first_seen, last_seen, country, bank_code, mixed_script, confusable, {columns}) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], \
                                  $8::bigint[], $9::bigint[], {}) \
             ON CONFLICT (kind, value) DO UPDATE SET reports = indicators.reports + excluded.reports, \
             first_seen = LEAST(indicators.first_seen, excluded.first_seen), \
             last_seen = GREATEST(indicators.last_seen, excluded.last_seen), {}",
            arrays.join(", "),
            sums.join(", ")
        )
    });
    AssertSqlSafe(text.as_str())
}

/// Takes one report of `fraud_type` out of an indicator record's counts (first and last
/// seen keep spanning every report ever filed, as in the SQLite store).
async fn recount_indicator(tx: &mut Tx<'_>, kind: &str, value: &str, fraud_type: FraudType) -> Result<(), StoreError> {
    let column = fraud_type_column(fraud_type);
    sqlx::query(sql(format!(
        "UPDATE indicators SET reports = reports - 1, {column} = {column} - 1 WHERE kind = $1 AND value = $2"
    )))
    .bind(kind)
    .bind(value)
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

async fn change_from_record(tx: &mut Tx<'_>, record: ChangeRecord) -> Result<Option<Change>, StoreError> {
    let at = Timestamp::from_millis(record.at);
    let event = match record.change.as_str() {
        "report" => {
            let seq = record.report_seq.unwrap_or(0);
            match load_reports(tx, "r.seq = ANY($1)", Some(&[seq]), None).await?.pop() {
                Some(report) => ChangeEvent::Report(Box::new(report)),
                None => return Ok(None),
            }
        }
        "retraction" => {
            let report_seq = record.report_seq.unwrap_or(0);
            ChangeEvent::Retraction {
                report_seq,
                indicators: report_indicators(tx, report_seq).await?,
            }
        }
        "review" => {
            let report_seq = record.report_seq.unwrap_or(0);
            ChangeEvent::Review {
                report_seq,
                review: parse_key(record.status.as_deref().unwrap_or(""), "review outcome", CitizenReview::from_key)?,
                indicators: report_indicators(tx, report_seq).await?,
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
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
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
        let mut tx = self.pool.begin().await?;
        let id = new_id();
        let seq: i64 = sqlx::query_scalar("INSERT INTO partners (id, name, kind, created_at) VALUES ($1, $2, $3, $4) RETURNING seq")
            .bind(&id)
            .bind(name)
            .bind(kind.as_str())
            .bind(now.millis())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::DuplicatePartner(name.to_owned())
                } else {
                    e.into()
                }
            })?;
        let partner = Partner {
            seq,
            id: id.clone(),
            name: name.to_owned(),
            kind,
            created_at: now,
        };
        let info = insert_token(&mut tx, &partner, token, token_label, now).await?;
        let created = AuditEvent {
            at: now,
            actor: actor.to_owned(),
            action: AuditAction::PartnerCreate,
            subject: format!("partner:{id}"),
            details: serde_json::json!({ "kind": kind.as_str() }).to_string(),
        };
        append_audit_tx(
            &mut tx,
            &[created, token_event(AuditAction::TokenCreate, actor, &info.id, &id, now)],
        )
        .await?;
        tx.commit().await?;
        Ok((partner, info))
    }

    async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        let rows = sqlx::query(sql(format!("{PARTNER_SELECT} WHERE kind <> 'citizen' ORDER BY seq")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| partner_record(r).map_err(StoreError::from).and_then(PartnerRecord::into_partner))
            .collect()
    }

    async fn partner(&self, id_or_name: &str) -> Result<Option<Partner>, StoreError> {
        partner_by(&self.pool, id_or_name).await
    }

    async fn add_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError> {
        let mut tx = self.pool.begin().await?;
        let partner = partner_by(&mut *tx, partner_id)
            .await?
            .filter(|p| p.kind != PartnerKind::Citizen)
            .ok_or_else(|| StoreError::UnknownPartner(partner_id.to_owned()))?;
        let info = insert_token(&mut tx, &partner, token, label, now).await?;
        append_audit_tx(&mut tx, &[token_event(AuditAction::TokenCreate, actor, &info.id, &partner.id, now)]).await?;
        tx.commit().await?;
        Ok(info)
    }

    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, p.id, t.label, t.created_at, t.revoked_at FROM tokens t JOIN partners p ON p.seq = t.partner_seq \
             WHERE p.id = $1 OR p.name = $1 ORDER BY t.created_at",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: r.try_get(0)?,
                    partner_id: r.try_get(1)?,
                    label: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    revoked_at: r.try_get(4)?,
                }
                .into_info())
            })
            .collect()
    }

    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let partner_id: Option<String> = sqlx::query_scalar(
            "UPDATE tokens t SET revoked_at = $1 FROM partners p WHERE p.seq = t.partner_seq AND t.id = $2 AND t.revoked_at IS NULL RETURNING p.id",
        )
        .bind(now.millis())
        .bind(token_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(partner_id) = partner_id else {
            return Ok(false);
        };
        append_audit_tx(&mut tx, &[token_event(AuditAction::TokenRevoke, actor, token_id, &partner_id, now)]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError> {
        let row = sqlx::query(
            "SELECT p.seq, p.id, p.name, p.kind, p.created_at FROM tokens t JOIN partners p ON p.seq = t.partner_seq \
             WHERE t.digest = $1 AND t.revoked_at IS NULL",
        )
        .bind(token.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| partner_record(&r).map_err(StoreError::from).and_then(PartnerRecord::into_partner))
            .transpose()
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
        let mut tx = self.pool.begin().await?;
        let plans = match insert_reports_tx(&mut tx, partner, reports, actor, now).await {
            Ok(plans) => plans,
            // Another node stored the same external id between our check and our insert:
            // roll back and classify again against what is stored now.
            Err(StoreError::Database(_)) if reports.iter().any(|r| r.external_id().is_some()) => {
                tx.rollback().await?;
                tx = self.pool.begin().await?;
                insert_reports_tx(&mut tx, partner, reports, actor, now).await?
            }
            Err(e) => return Err(e),
        };
        let mut outcomes = Vec::with_capacity(plans.len());
        for (report, (plan, seq)) in reports.iter().zip(plans) {
            outcomes.push(match plan {
                Plan::New { id } => InsertOutcome::Created(stored_from_new(partner, seq.unwrap_or(0), &id, report, now)),
                Plan::Existing { id } => InsertOutcome::Existing { id },
                Plan::Conflict { id } => InsertOutcome::Conflict { existing_id: id },
            });
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn retract_report(
        &self,
        report_id: &str,
        by: &Partner,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<RetractOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Lock the report row so two retractions of one report cannot both count.
        let locked: Option<i64> = sqlx::query_scalar("SELECT seq FROM reports WHERE id = $1 FOR UPDATE")
            .bind(report_id)
            .fetch_optional(&mut *tx)
            .await?;
        if locked.is_none() {
            return Ok(RetractOutcome::NotFound);
        }
        let Some(report) = report_by_id(&mut tx, report_id).await? else {
            return Ok(RetractOutcome::NotFound);
        };
        if report.partner_seq != by.seq && !by.kind.may_retract_any_report() {
            return Ok(RetractOutcome::NotAllowed);
        }
        if report.retraction.is_some() {
            return Ok(RetractOutcome::AlreadyRetracted(report));
        }
        sqlx::query("INSERT INTO retractions (report_seq, by_partner_seq, reason, at) VALUES ($1, $2, $3, $4)")
            .bind(report.seq)
            .bind(by.seq)
            .bind(reason)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        let mut named: Vec<(&str, &str)> = report.indicators.iter().map(|i| (i.kind.as_str(), i.value.as_str())).collect();
        named.sort_unstable();
        for (kind, value) in named {
            recount_indicator(&mut tx, kind, value, report.fraud_type).await?;
        }
        sqlx::query("INSERT INTO changes (at, change, report_seq) VALUES ($1, 'retraction', $2)")
            .bind(now.millis())
            .bind(report.seq)
            .execute(&mut *tx)
            .await?;
        append_audit_tx(&mut tx, &[report_retracted_event(&by.actor(), &report.id, now)]).await?;
        let retracted = report_by_id(&mut tx, report_id).await?;
        tx.commit().await?;
        Ok(retracted.map_or(RetractOutcome::NotFound, RetractOutcome::Retracted))
    }

    async fn report(&self, id: &str) -> Result<Option<StoredReport>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(load_reports(&mut conn, "r.id = ANY($1)", None, Some(&[id.to_owned()])).await?.pop())
    }

    async fn reports_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredReport>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut found = load_reports(&mut conn, "r.seq = ANY($1)", Some(seqs), None).await?;
        let position: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        found.sort_by_key(|r| position.get(&r.seq).copied().unwrap_or(usize::MAX));
        Ok(found)
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
        let mut tx = self.pool.begin().await?;
        // The row is written (and so locked) before the feed row takes its number: of two
        // concurrent changes of one indicator, the one that commits last has the higher number.
        sqlx::query(
            "INSERT INTO indicators (kind, value, status, status_reason, status_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind, value) DO UPDATE SET status = excluded.status, status_reason = excluded.status_reason, \
             status_at = excluded.status_at",
        )
        .bind(kind.as_str())
        .bind(value)
        .bind(status.as_str())
        .bind(reason)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let position: i64 =
            sqlx::query_scalar("INSERT INTO changes (at, change, kind, value, status) VALUES ($1, 'status', $2, $3, $4) RETURNING seq")
                .bind(now.millis())
                .bind(kind.as_str())
                .bind(value)
                .bind(status.as_str())
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE indicators SET status_seq = $3 WHERE kind = $1 AND value = $2")
            .bind(kind.as_str())
            .bind(value)
            .bind(position)
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent {
            at: now,
            actor: actor.to_owned(),
            action: AuditAction::IndicatorStatus,
            subject: audit_subject.to_owned(),
            details: serde_json::json!({ "status": status.as_str() }).to_string(),
        };
        append_audit_tx(&mut tx, &[event]).await?;
        tx.commit().await?;
        Ok(position)
    }

    async fn review_citizen_report(
        &self,
        report_id: &str,
        review: CitizenReview,
        by: &Partner,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<ReviewOutcome, StoreError> {
        citizen_reviews::review(&self.pool, report_id, review, by, note, now).await
    }

    async fn citizen_reports(&self, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        citizen_reviews::queue(&self.pool, review, after, limit).await
    }

    async fn indicator(&self, kind: IndicatorKind, value: &str) -> Result<Option<IndicatorRow>, StoreError> {
        let row = sqlx::query(sql(format!("{} WHERE kind = $1 AND value = $2", indicator_select())))
            .bind(kind.as_str())
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        IndicatorRowRecord {
            kind: r.try_get(0)?,
            value: r.try_get(1)?,
            status: r.try_get(2)?,
            status_reason: r.try_get(3)?,
            status_at: r.try_get(4)?,
            reports: r.try_get(5)?,
            first_seen: r.try_get(6)?,
            last_seen: r.try_get(7)?,
            country: r.try_get(8)?,
            bank_code: r.try_get(9)?,
            mixed_script: r.try_get(10)?,
            confusable: r.try_get(11)?,
            fraud_types: {
                let mut counts = [0i64; vangnet_core::report::FRAUD_TYPE_COUNT];
                for (i, count) in counts.iter_mut().enumerate() {
                    *count = r.try_get(12 + i)?;
                }
                counts
            },
        }
        .into_row()
        .map(Some)
    }

    async fn load_index(&self, mut index: IndicatorIndex) -> Result<(IndicatorIndex, i64), StoreError> {
        use futures_util::TryStreamExt;
        // One snapshot for links, statuses and the feed position.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let head: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM changes")
            .fetch_one(&mut *tx)
            .await?;
        {
            let mut rows = sqlx::query(LINK_SELECT).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                LinkRecord {
                    kind: r.try_get(0)?,
                    value: r.try_get(1)?,
                    report_seq: r.try_get(2)?,
                    partner_seq: r.try_get(3)?,
                    partner_kind: r.try_get(4)?,
                    fraud_type: r.try_get(5)?,
                    tlp: r.try_get(6)?,
                    occurred_at: r.try_get(7)?,
                    amount_minor: r.try_get(8)?,
                    currency: r.try_get(9)?,
                    aangifte: r.try_get(10)?,
                    submitter: r.try_get(11)?,
                    review: r.try_get(12)?,
                }
                .add_to(&mut index)?;
            }
        }
        let statuses = sqlx::query("SELECT kind, value, status, status_seq FROM indicators WHERE status <> 'active' OR status_seq > 0")
            .fetch_all(&mut *tx)
            .await?;
        for r in statuses {
            let kind = parse_key(&r.try_get::<String, _>(0)?, "indicator kind", IndicatorKind::from_key)?;
            let status = parse_key(&r.try_get::<String, _>(2)?, "indicator status", IndicatorStatus::from_key)?;
            let key = index.key(kind, &r.try_get::<String, _>(1)?);
            index.set_status(key, status, r.try_get(3)?);
        }
        tx.commit().await?;
        Ok((index, head))
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(sql(format!("{CHANGE_SELECT} WHERE seq > $1 ORDER BY seq LIMIT $2")))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for r in rows {
            let record = ChangeRecord {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                change: r.try_get(2)?,
                report_seq: r.try_get(3)?,
                kind: r.try_get(4)?,
                value: r.try_get(5)?,
                status: r.try_get(6)?,
            };
            if let Some(change) = change_from_record(&mut tx, record).await? {
                changes.push(change);
            }
        }
        tx.commit().await?;
        Ok(changes)
    }

    async fn feed_head(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM changes")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn prune_changes(&self, before: Timestamp) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM changes WHERE at < $1")
            .bind(before.millis())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        append_audit_tx(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(sql(format!("{AUDIT_SELECT} WHERE seq > $1 ORDER BY seq LIMIT $2")))
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(audit_record(r)?.into_entry())).collect()
    }

    async fn audit_entries_of(&self, actor: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(sql(format!("{AUDIT_SELECT} WHERE actor = $1 ORDER BY seq DESC LIMIT $2")))
            .bind(actor)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(audit_record(r)?.into_entry())).collect()
    }

    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((u64::try_from(r.try_get::<i64, _>(0)?).unwrap_or(0), r.try_get(1)?)))
            .transpose()
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
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
        call_lists::add(&self.pool, list, numbers, owner, state, actor, now).await
    }

    async fn approve_call_number(&self, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError> {
        call_lists::approve(&self.pool, list, e164, actor, now).await
    }

    async fn remove_call_number(
        &self,
        list: &str,
        e164: &str,
        owner: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<CallListRemove, StoreError> {
        call_lists::remove(&self.pool, list, e164, owner, actor, now).await
    }

    async fn call_numbers(&self, list: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT e164 FROM call_numbers WHERE list = $1 AND state = 'active' ORDER BY e164")
                .bind(list)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn call_list_entries(&self, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
        call_lists::entries(&self.pool, list, owner).await
    }

    async fn call_list_entry(&self, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        call_lists::entry(&mut conn, list, e164).await
    }

    async fn call_list_history(&self, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
        call_lists::history(&self.pool, list, e164).await
    }

    async fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool, now: Timestamp) -> Result<(), StoreError> {
        if opted_out {
            sqlx::query("INSERT INTO signal_opt_outs (subscriber_ref, at) VALUES ($1, $2) ON CONFLICT (subscriber_ref) DO NOTHING")
                .bind(subscriber_ref)
                .bind(now.millis())
                .execute(&self.pool)
                .await?;
        } else {
            sqlx::query("DELETE FROM signal_opt_outs WHERE subscriber_ref = $1")
                .bind(subscriber_ref)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn opt_outs(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT subscriber_ref FROM signal_opt_outs")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn store_decisions(&self, writes: &[DecisionWrite]) -> Result<Vec<DecisionOutcome>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(writes.len());
        for w in writes {
            let d = &w.decision;
            let inserted = sqlx::query(
                "INSERT INTO payment_decisions (partner_seq, payment_id, request_digest, decided_at, decision, score, reasons, rules_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (partner_seq, payment_id) DO NOTHING",
            )
            .bind(w.partner_seq)
            .bind(&d.payment_id)
            .bind(&d.request_digest)
            .bind(d.decided_at.millis())
            .bind(&d.decision)
            .bind(d.score)
            .bind(&d.reasons)
            .bind(&d.rules_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                let existing = sqlx::query(sql(format!("{DECISION_SELECT} WHERE partner_seq = $1 AND payment_id = $2")))
                    .bind(w.partner_seq)
                    .bind(&d.payment_id)
                    .fetch_one(&mut *tx)
                    .await?;
                out.push(DecisionOutcome::Existing(decision_row(&existing)?));
                continue;
            }
            let at = d.decided_at.millis();
            if let Some(p) = &w.payer {
                sqlx::query(
                    "INSERT INTO payer_profiles (payer, state, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (payer) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(&p.key)
                .bind(&p.state)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            for a in &w.accounts {
                sqlx::query(
                    "INSERT INTO account_activity (account, state, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (account) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(&a.key)
                .bind(&a.state)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            out.push(DecisionOutcome::Stored);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn pnbf_open(&self, case: &PnbfCaseRow, event: &PnbfEventRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql(format!(
            "INSERT INTO pnbf_cases ({PNBF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(&case.id)
        .bind(case.victim_bank)
        .bind(case.payee_bank)
        .bind(&case.state)
        .bind(case.version)
        .bind(case.opened_at.millis())
        .bind(case.updated_at.millis())
        .bind(case.term_ends.map(Timestamp::millis))
        .bind(case.remind_at.map(Timestamp::millis))
        .bind(case.naw_delete_at.map(Timestamp::millis))
        .bind(&case.link_digest)
        .bind(&case.body)
        .bind(&case.naw)
        .execute(&mut *tx)
        .await?;
        insert_pnbf_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pnbf_case(&self, id: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(pnbf_case_row).transpose()
    }

    async fn pnbf_case_by_link(&self, link_digest: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE link_digest = $1")))
            .bind(link_digest)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(pnbf_case_row).transpose()
    }

    async fn pnbf_update(&self, case: &PnbfCaseRow, expected_version: i64, event: &PnbfEventRow) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE pnbf_cases SET payee_bank = $3, state = $4, version = $5, updated_at = $6, term_ends = $7, \
             remind_at = $8, naw_delete_at = $9, body = $10, naw = $11, link_digest = $12 WHERE id = $1 AND version = $2",
        )
        .bind(&case.id)
        .bind(expected_version)
        .bind(case.payee_bank)
        .bind(&case.state)
        .bind(case.version)
        .bind(case.updated_at.millis())
        .bind(case.term_ends.map(Timestamp::millis))
        .bind(case.remind_at.map(Timestamp::millis))
        .bind(case.naw_delete_at.map(Timestamp::millis))
        .bind(&case.body)
        .bind(&case.naw)
        .bind(&case.link_digest)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        insert_pnbf_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn pnbf_events(&self, case_id: &str) -> Result<Vec<PnbfEventRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {PNBF_EVENT_COLUMNS} FROM pnbf_events WHERE case_id = $1 ORDER BY seq"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pnbf_event_row).collect()
    }

    async fn pnbf_cases(&self, partner_seq: Option<i64>) -> Result<Vec<PnbfCaseRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE $1::BIGINT IS NULL OR victim_bank = $1 OR payee_bank = $1 ORDER BY opened_at DESC, id"
        )))
        .bind(partner_seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pnbf_case_row).collect()
    }

    async fn pnbf_due(&self, now: Timestamp) -> Result<Vec<PnbfCaseRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE term_ends <= $1 OR remind_at <= $1 OR naw_delete_at <= $1 ORDER BY opened_at, id"
        )))
        .bind(now.millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pnbf_case_row).collect()
    }

    async fn pnbf_set_bank_code(&self, code: &str, partner_seq: Option<i64>, now: Timestamp) -> Result<(), StoreError> {
        match partner_seq {
            Some(seq) => {
                sqlx::query(
                    "INSERT INTO pnbf_bank_codes (code, partner_seq, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO UPDATE SET partner_seq = excluded.partner_seq, updated_at = excluded.updated_at",
                )
                .bind(code)
                .bind(seq)
                .bind(now.millis())
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM pnbf_bank_codes WHERE code = $1")
                    .bind(code)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    async fn pnbf_bank_codes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT code, partner_seq FROM pnbf_bank_codes ORDER BY code")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn payment_decisions(&self, partner_seq: i64, payment_ids: &[String]) -> Result<Vec<PaymentDecisionRow>, StoreError> {
        if payment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sql(format!("{DECISION_SELECT} WHERE partner_seq = $1 AND payment_id = ANY($2)")))
            .bind(partner_seq)
            .bind(payment_ids)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decision_row).collect()
    }

    async fn payment_decision(&self, partner_seq: i64, payment_id: &str) -> Result<Option<PaymentDecisionRow>, StoreError> {
        let row = sqlx::query(sql(format!("{DECISION_SELECT} WHERE partner_seq = $1 AND payment_id = $2")))
            .bind(partner_seq)
            .bind(payment_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decision_row).transpose()
    }

    async fn screening_state(&self, limit: u32) -> Result<(Vec<StateBlob>, Vec<StateBlob>), StoreError> {
        let mut out = Vec::with_capacity(2);
        for q in [
            "SELECT payer, state FROM payer_profiles ORDER BY updated_at DESC LIMIT $1",
            "SELECT account, state FROM account_activity ORDER BY updated_at DESC LIMIT $1",
        ] {
            let rows = sqlx::query(q).bind(i64::from(limit)).fetch_all(&self.pool).await?;
            out.push(
                rows.iter()
                    .map(|r| {
                        Ok(StateBlob {
                            key: r.try_get(0)?,
                            state: r.try_get(1)?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?,
            );
        }
        let accounts = out.pop().unwrap_or_default();
        let payers = out.pop().unwrap_or_default();
        Ok((payers, accounts))
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?)
    }
}

fn pnbf_case_row(r: &PgRow) -> Result<PnbfCaseRow, StoreError> {
    let at = |i: usize| -> Result<Option<Timestamp>, sqlx::Error> { Ok(r.try_get::<Option<i64>, _>(i)?.map(Timestamp::from_millis)) };
    Ok(PnbfCaseRow {
        id: r.try_get(0)?,
        victim_bank: r.try_get(1)?,
        payee_bank: r.try_get(2)?,
        state: r.try_get(3)?,
        version: r.try_get(4)?,
        opened_at: Timestamp::from_millis(r.try_get(5)?),
        updated_at: Timestamp::from_millis(r.try_get(6)?),
        term_ends: at(7)?,
        remind_at: at(8)?,
        naw_delete_at: at(9)?,
        link_digest: r.try_get(10)?,
        body: r.try_get(11)?,
        naw: r.try_get(12)?,
    })
}

fn pnbf_event_row(r: &PgRow) -> Result<PnbfEventRow, StoreError> {
    Ok(PnbfEventRow {
        case_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        at: Timestamp::from_millis(r.try_get(2)?),
        actor: r.try_get(3)?,
        side: r.try_get(4)?,
        event: r.try_get(5)?,
        from_state: r.try_get(6)?,
        to_state: r.try_get(7)?,
        reason: r.try_get(8)?,
        details: r.try_get(9)?,
    })
}

async fn insert_pnbf_event(tx: &mut Transaction<'_, Postgres>, e: &PnbfEventRow) -> Result<(), StoreError> {
    sqlx::query(sql(format!(
        "INSERT INTO pnbf_events ({PNBF_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(&e.case_id)
    .bind(e.seq)
    .bind(e.at.millis())
    .bind(&e.actor)
    .bind(&e.side)
    .bind(&e.event)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.reason)
    .bind(&e.details)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
