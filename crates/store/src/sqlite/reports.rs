//! Reports, indicator records, the index load and the change feed on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::{CitizenReview, IndicatorIndex, IndicatorStatus};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::{FraudType, NewReport};

use super::{SqliteStore, append_audit_tx, load_report, report_indicators};
use crate::batch::{Plan, indicator_deltas, plan, report_created_event, report_retracted_event};
use crate::rows::{
    CHANGE_SELECT, ChangeRecord, IndicatorRowRecord, LINK_SELECT, LinkRecord, fraud_type_column, fraud_type_columns, indicator_select,
    stored_from_new,
};
use crate::{
    Change, ChangeEvent, IndicatorRow, InsertOutcome, MAX_INSERT_BATCH, Partner, ReportStore, RetractOutcome, StoreError, StoredReport,
    parse_key,
};

#[async_trait]
impl ReportStore for SqliteStore {
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
            let position = set_status_tx(&tx, kind, &value, status, reason.as_deref(), actor, subject, now)?;
            tx.commit()?;
            Ok(position)
        })
        .await
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
                        role: r.get(13)?,
                        derived: r.get(14)?,
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
    if let Some(first) = seqs.iter().flatten().next() {
        super::dispute_requests::open_clearance_reviews(tx, *first, now)?;
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
        "deletion" => ChangeEvent::Deletion {
            report_seq: record.report_seq.unwrap_or(0),
            kind: parse_key(record.kind.as_deref().unwrap_or(""), "indicator kind", IndicatorKind::from_key)?,
            value: record.value.clone().unwrap_or_default(),
        },
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

/// Writes an indicator's review status, its change-feed row (whose number is the status's
/// position, returned) and the audit entry, inside `tx`. Disputes set statuses the same way.
#[allow(clippy::too_many_arguments)]
pub(crate) fn set_status_tx(
    tx: &Transaction<'_>,
    kind: IndicatorKind,
    value: &str,
    status: IndicatorStatus,
    reason: Option<&str>,
    actor: String,
    audit_subject: String,
    now: Timestamp,
) -> Result<i64, StoreError> {
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
        subject: audit_subject,
        details: serde_json::json!({ "status": status.as_str() }).to_string(),
    };
    append_audit_tx(tx, &[event])?;
    Ok(position)
}
