//! Objections from the public form and reviews of cleared indicators on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::dispute::{ClearanceOutcome, RequestState};

use super::reports::set_status_tx;
use super::{SqliteStore, append_audit_tx};
use crate::dispute_requests::{CLEARANCE_SELECT, ClearanceRecord, REQUEST_SELECT, RequestRecord, clearance_audit, request_audit};
use crate::{ClearanceReviewRow, DisputeRequestRow, DisputeRequestStore, NewDisputeRequest, RequestDecision, StoreError};

#[async_trait]
impl DisputeRequestStore for SqliteStore {
    async fn add_dispute_request(&self, new: &NewDisputeRequest, now: Timestamp) -> Result<(), StoreError> {
        let new = new.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO dispute_requests (id, kind, value, reason, contact, language, submitter, received_at, state) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')",
                params![
                    new.id,
                    new.kind.as_str(),
                    new.value,
                    new.reason,
                    new.contact,
                    new.language,
                    new.submitter,
                    now.millis()
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn dispute_request(&self, id: &str) -> Result<Option<DisputeRequestRow>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{REQUEST_SELECT} WHERE id = ?1"))?;
            stmt.query_row([id], request_record)
                .optional()?
                .map(RequestRecord::into_row)
                .transpose()
        })
        .await
    }

    async fn dispute_requests(
        &self,
        state: Option<RequestState>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisputeRequestRow>, StoreError> {
        let after = after.map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{REQUEST_SELECT} WHERE (?1 IS NULL OR state = ?1) \
                 AND (?2 IS NULL OR seq > (SELECT seq FROM dispute_requests WHERE id = ?2)) ORDER BY seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![state.map(RequestState::as_str), after, limit], request_record)?;
            rows.map(|r| r?.into_row()).collect()
        })
        .await
    }

    async fn decide_dispute_request(&self, id: &str, decision: &RequestDecision, actor: &str, now: Timestamp) -> Result<bool, StoreError> {
        let (id, decision, actor) = (id.to_owned(), decision.clone(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE dispute_requests SET state = ?2, decided_by = ?3, decided_at = ?4, decision_reason = ?5, dispute_id = ?6 \
                 WHERE id = ?1 AND state = 'pending'",
                params![id, decision.to.as_str(), actor, now.millis(), decision.reason, decision.dispute_id],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            append_audit_tx(&tx, &[request_audit(&id, &decision, &actor, now)])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn clearance_reviews(&self, open_only: bool, after: Option<i64>, limit: u32) -> Result<Vec<ClearanceReviewRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{CLEARANCE_SELECT} WHERE (?1 = 0 OR c.closed_at IS NULL) AND c.seq > ?2 ORDER BY c.seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![i64::from(open_only), after.unwrap_or(0), limit], clearance_record)?;
            rows.map(|r| r?.into_row()).collect()
        })
        .await
    }

    async fn clearance_review(&self, seq: i64) -> Result<Option<ClearanceReviewRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{CLEARANCE_SELECT} WHERE c.seq = ?1"))?;
            stmt.query_row([seq], clearance_record)
                .optional()?
                .map(ClearanceRecord::into_row)
                .transpose()
        })
        .await
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
        let (reason, actor, subject) = (reason.to_owned(), actor.to_owned(), audit_subject.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let target: Option<(String, String)> = tx
                .query_row(
                    "UPDATE clearance_reviews SET closed_at = ?2, closed_by = ?3, outcome = ?4, reason = ?5 \
                     WHERE seq = ?1 AND closed_at IS NULL RETURNING kind, value",
                    params![seq, now.millis(), actor, outcome.as_str(), reason],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((kind, value)) = target else {
                return Ok(None);
            };
            let kind = vangnet_core::indicator::IndicatorKind::from_key(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("indicator kind `{kind}`")))?;
            let position = set_status_tx(
                &tx,
                kind,
                &value,
                outcome.indicator_status(),
                Some(&format!("review {seq}: {}", outcome.as_str())),
                actor.clone(),
                subject.clone(),
                now,
            )?;
            append_audit_tx(&tx, &[clearance_audit(seq, outcome, &actor, &subject, now)])?;
            let mut stmt = tx.prepare_cached(&format!("{CLEARANCE_SELECT} WHERE c.seq = ?1"))?;
            let row = stmt.query_row([seq], clearance_record)?.into_row()?;
            drop(stmt);
            tx.commit()?;
            Ok(Some((row, position)))
        })
        .await
    }
}

/// Opens a review for every cleared indicator that the reports from `first_seq` on name (the
/// reports of the transaction), or counts them into the open one.
pub(crate) fn open_clearance_reviews(tx: &rusqlite::Transaction<'_>, first_seq: i64, now: Timestamp) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO clearance_reviews (kind, value, report_seq, opened_at, reports) \
         SELECT ri.kind, ri.value, min(ri.report_seq), ?2, count(*) FROM report_indicators ri \
         JOIN indicators i ON i.kind = ri.kind AND i.value = ri.value \
         WHERE ri.report_seq >= ?1 AND i.status = 'cleared' GROUP BY ri.kind, ri.value \
         ON CONFLICT (kind, value) WHERE closed_at IS NULL DO UPDATE SET reports = reports + excluded.reports",
    )?
    .execute(params![first_seq, now.millis()])?;
    Ok(())
}

pub(super) fn request_record(r: &Row<'_>) -> rusqlite::Result<RequestRecord> {
    Ok(RequestRecord {
        id: r.get(0)?,
        kind: r.get(1)?,
        value: r.get(2)?,
        reason: r.get(3)?,
        contact: r.get(4)?,
        language: r.get(5)?,
        submitter: r.get(6)?,
        received_at: r.get(7)?,
        state: r.get(8)?,
        decided_by: r.get(9)?,
        decided_at: r.get(10)?,
        decision_reason: r.get(11)?,
        dispute_id: r.get(12)?,
    })
}

pub(super) fn clearance_record(r: &Row<'_>) -> rusqlite::Result<ClearanceRecord> {
    Ok(ClearanceRecord {
        seq: r.get(0)?,
        kind: r.get(1)?,
        value: r.get(2)?,
        report_id: r.get(3)?,
        opened_at: r.get(4)?,
        reports: r.get(5)?,
        closed_at: r.get(6)?,
        closed_by: r.get(7)?,
        outcome: r.get(8)?,
        reason: r.get(9)?,
    })
}
