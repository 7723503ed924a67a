//! Reports, indicator records, the index load and the change feed on PostgreSQL.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::{CitizenReview, IndicatorIndex, IndicatorStatus};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::{FraudType, NewReport};

use super::{PostgresStore, Tx, append_audit_tx, load_reports, report_by_id, report_indicators, sql};
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
impl ReportStore for PostgresStore {
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
        let position = set_status_tx(&mut tx, kind, value, status, reason, actor, audit_subject, now).await?;
        tx.commit().await?;
        Ok(position)
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
                    role: r.try_get(13)?,
                    derived: r.try_get(14)?,
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
        super::dispute_requests::open_clearance_reviews(tx, &change_seqs, now).await?;
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
pub(crate) async fn set_status_tx(
    tx: &mut Tx<'_>,
    kind: IndicatorKind,
    value: &str,
    status: IndicatorStatus,
    reason: Option<&str>,
    actor: &str,
    audit_subject: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
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
    .execute(&mut **tx)
    .await?;
    let position: i64 =
        sqlx::query_scalar("INSERT INTO changes (at, change, kind, value, status) VALUES ($1, 'status', $2, $3, $4) RETURNING seq")
            .bind(now.millis())
            .bind(kind.as_str())
            .bind(value)
            .bind(status.as_str())
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("UPDATE indicators SET status_seq = $3 WHERE kind = $1 AND value = $2")
        .bind(kind.as_str())
        .bind(value)
        .bind(position)
        .execute(&mut **tx)
        .await?;
    let event = AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: AuditAction::IndicatorStatus,
        subject: audit_subject.to_owned(),
        details: serde_json::json!({ "status": status.as_str() }).to_string(),
    };
    append_audit_tx(tx, &[event]).await?;
    Ok(position)
}
