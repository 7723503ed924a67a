//! Objections from the public form and reviews of cleared indicators on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vangnet_core::Timestamp;
use vangnet_core::dispute::{ClearanceOutcome, RequestState};

use super::reports::set_status_tx;
use super::{PostgresStore, Tx, append_audit_tx, sql};
use crate::dispute_requests::{CLEARANCE_SELECT, ClearanceRecord, REQUEST_SELECT, RequestRecord, clearance_audit, request_audit};
use crate::{ClearanceReviewRow, DisputeRequestRow, DisputeRequestStore, NewDisputeRequest, RequestDecision, StoreError};

#[async_trait]
impl DisputeRequestStore for PostgresStore {
    async fn add_dispute_request(&self, new: &NewDisputeRequest, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO dispute_requests (id, kind, value, reason, contact, language, submitter, received_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')",
        )
        .bind(&new.id)
        .bind(new.kind.as_str())
        .bind(&new.value)
        .bind(&new.reason)
        .bind(&new.contact)
        .bind(&new.language)
        .bind(&new.submitter)
        .bind(now.millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn dispute_request(&self, id: &str) -> Result<Option<DisputeRequestRow>, StoreError> {
        let row = sqlx::query(sql(format!("{REQUEST_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| request_record(r)?.into_row()).transpose()
    }

    async fn dispute_requests(
        &self,
        state: Option<RequestState>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisputeRequestRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "{REQUEST_SELECT} WHERE ($1::TEXT IS NULL OR state = $1) \
             AND ($2::TEXT IS NULL OR seq > (SELECT seq FROM dispute_requests WHERE id = $2)) ORDER BY seq LIMIT $3"
        )))
        .bind(state.map(RequestState::as_str))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| request_record(r)?.into_row()).collect()
    }

    async fn decide_dispute_request(&self, id: &str, decision: &RequestDecision, actor: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE dispute_requests SET state = $2, decided_by = $3, decided_at = $4, decision_reason = $5, dispute_id = $6 \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(decision.to.as_str())
        .bind(actor)
        .bind(now.millis())
        .bind(&decision.reason)
        .bind(&decision.dispute_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        append_audit_tx(&mut tx, &[request_audit(id, decision, actor, now)]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn clearance_reviews(&self, open_only: bool, after: Option<i64>, limit: u32) -> Result<Vec<ClearanceReviewRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "{CLEARANCE_SELECT} WHERE (NOT $1 OR c.closed_at IS NULL) AND c.seq > $2 ORDER BY c.seq LIMIT $3"
        )))
        .bind(open_only)
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| clearance_record(r)?.into_row()).collect()
    }

    async fn clearance_review(&self, seq: i64) -> Result<Option<ClearanceReviewRow>, StoreError> {
        let row = sqlx::query(sql(format!("{CLEARANCE_SELECT} WHERE c.seq = $1")))
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| clearance_record(r)?.into_row()).transpose()
    }

    async fn close_clearance_review(
        &self,
        seq: i64,
        outcome: ClearanceOutcome,
        reason: &str,
        actor: &str,
        audit_subject: &str,
        now: Timestamp,
    ) -> Result<Option<(ClearanceReviewRow, i64)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let target: Option<(String, String)> = sqlx::query_as(
            "UPDATE clearance_reviews SET closed_at = $2, closed_by = $3, outcome = $4, reason = $5 \
             WHERE seq = $1 AND closed_at IS NULL RETURNING kind, value",
        )
        .bind(seq)
        .bind(now.millis())
        .bind(actor)
        .bind(outcome.as_str())
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((kind, value)) = target else {
            return Ok(None);
        };
        let kind = vangnet_core::indicator::IndicatorKind::from_key(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("indicator kind `{kind}`")))?;
        let position = set_status_tx(
            &mut tx,
            kind,
            &value,
            outcome.indicator_status(),
            Some(&format!("review {seq}: {}", outcome.as_str())),
            actor,
            audit_subject,
            now,
        )
        .await?;
        append_audit_tx(&mut tx, &[clearance_audit(seq, outcome, actor, audit_subject, now)]).await?;
        let row = sqlx::query(sql(format!("{CLEARANCE_SELECT} WHERE c.seq = $1")))
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
        let row = clearance_record(&row)?.into_row()?;
        tx.commit().await?;
        Ok(Some((row, position)))
    }
}

/// Opens a review for every cleared indicator that the reports `seqs` (those of the
/// transaction) name, or counts them into the open one.
pub(crate) async fn open_clearance_reviews(tx: &mut Tx<'_>, seqs: &[i64], now: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO clearance_reviews (kind, value, report_seq, opened_at, reports) \
         SELECT ri.kind, ri.value, min(ri.report_seq), $2, count(*) FROM report_indicators ri \
         JOIN indicators i ON i.kind = ri.kind AND i.value = ri.value \
         WHERE ri.report_seq = ANY($1) AND i.status = 'cleared' GROUP BY ri.kind, ri.value \
         ON CONFLICT (kind, value) WHERE closed_at IS NULL DO UPDATE SET reports = clearance_reviews.reports + excluded.reports",
    )
    .bind(seqs)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) fn request_record(r: &PgRow) -> Result<RequestRecord, StoreError> {
    Ok(RequestRecord {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        value: r.try_get(2)?,
        reason: r.try_get(3)?,
        contact: r.try_get(4)?,
        language: r.try_get(5)?,
        submitter: r.try_get(6)?,
        received_at: r.try_get(7)?,
        state: r.try_get(8)?,
        decided_by: r.try_get(9)?,
        decided_at: r.try_get(10)?,
        decision_reason: r.try_get(11)?,
        dispute_id: r.try_get(12)?,
    })
}

pub(super) fn clearance_record(r: &PgRow) -> Result<ClearanceRecord, StoreError> {
    Ok(ClearanceRecord {
        seq: r.try_get(0)?,
        kind: r.try_get(1)?,
        value: r.try_get(2)?,
        report_id: r.try_get(3)?,
        opened_at: r.try_get(4)?,
        reports: r.try_get(5)?,
        closed_at: r.try_get(6)?,
        closed_by: r.try_get(7)?,
        outcome: r.try_get(8)?,
        reason: r.try_get(9)?,
    })
}
