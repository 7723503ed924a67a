//! Retention on PostgreSQL: candidates past their term, and deleting reports.

use async_trait::async_trait;
use sqlx::Row;
use vangnet_core::Timestamp;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::FraudType;

use super::{PostgresStore, append_audit_tx, report_indicators, sql};
use crate::retention::{CLOSED_REVIEWS, DECIDED_DISPUTES, DECIDED_OBJECTIONS, decided_audit, deletion_audit};
use crate::rows::fraud_type_column;
use crate::{DecidedCases, DeletedReport, Deletion, RetentionCandidate, RetentionStore, StoreError, parse_key};

#[async_trait]
impl RetentionStore for PostgresStore {
    async fn retention_candidates(
        &self,
        after: i64,
        received_before: Timestamp,
        cleared_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<RetentionCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.seq, r.id, r.fraud_type, p.kind, r.received_at, \
             (SELECT min(i.status_at) FROM report_indicators ri JOIN indicators i ON i.kind = ri.kind AND i.value = ri.value \
              WHERE ri.report_seq = r.seq AND i.status = 'cleared') AS cleared_at \
             FROM reports r JOIN partners p ON p.seq = r.partner_seq \
             WHERE r.seq > $1 AND (r.received_at < $2 OR EXISTS (SELECT 1 FROM report_indicators ri \
               JOIN indicators i ON i.kind = ri.kind AND i.value = ri.value \
               WHERE ri.report_seq = r.seq AND i.status = 'cleared' AND i.status_at < $3)) \
             ORDER BY r.seq LIMIT $4",
        )
        .bind(after)
        .bind(received_before.millis())
        .bind(cleared_before.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let fraud_type: String = r.try_get(2)?;
                let kind: String = r.try_get(3)?;
                Ok(RetentionCandidate {
                    seq: r.try_get(0)?,
                    id: r.try_get(1)?,
                    fraud_type: parse_key(&fraud_type, "fraud type", FraudType::from_key)?,
                    source: parse_key(&kind, "partner kind", PartnerKind::from_key)?,
                    received_at: Timestamp::from_millis(r.try_get(4)?),
                    cleared_at: r.try_get::<Option<i64>, _>(5)?.map(Timestamp::from_millis),
                })
            })
            .collect()
    }

    async fn delete_reports(&self, seqs: &[i64], why: Deletion<'_>, actor: &str, now: Timestamp) -> Result<Vec<DeletedReport>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut deleted = Vec::with_capacity(seqs.len());
        let mut ids = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            // The row is locked for the transaction: a second node sweeping at once waits, then
            // finds it gone.
            let found = sqlx::query(
                "SELECT r.id, r.fraud_type, EXISTS (SELECT 1 FROM retractions x WHERE x.report_seq = r.seq) \
                 FROM reports r WHERE r.seq = $1 FOR UPDATE",
            )
            .bind(seq)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(found) = found else { continue };
            let id: String = found.try_get(0)?;
            let fraud_type: String = found.try_get(1)?;
            let retracted: bool = found.try_get(2)?;
            let fraud_type = parse_key(&fraud_type, "fraud type", FraudType::from_key)?;
            let indicators = report_indicators(&mut tx, seq).await?;
            let column = fraud_type_column(fraud_type);
            for (kind, value) in &indicators {
                if !retracted {
                    sqlx::query(sql(format!(
                        "UPDATE indicators SET reports = reports - 1, {column} = {column} - 1 WHERE kind = $1 AND value = $2"
                    )))
                    .bind(kind.as_str())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("INSERT INTO changes (at, change, report_seq, kind, value) VALUES ($1, 'deletion', $2, $3, $4)")
                    .bind(now.millis())
                    .bind(seq)
                    .bind(kind.as_str())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM indicators WHERE kind = $1 AND value = $2 AND reports <= 0 AND status = 'active'")
                    .bind(kind.as_str())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            for statement in [
                "DELETE FROM report_indicators WHERE report_seq = $1",
                "DELETE FROM retractions WHERE report_seq = $1",
                "DELETE FROM citizen_reviews WHERE report_seq = $1",
                "DELETE FROM clearance_reviews WHERE report_seq = $1",
                "DELETE FROM reports WHERE seq = $1",
            ] {
                sqlx::query(statement).bind(seq).execute(&mut *tx).await?;
            }
            ids.push(id);
            deleted.push(DeletedReport { seq, indicators });
        }
        if !deleted.is_empty() {
            append_audit_tx(&mut tx, &[deletion_audit(why, &ids, actor, now)]).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn decided_cases_before(&self, before: Timestamp) -> Result<DecidedCases, StoreError> {
        let mut counts = [0u64; 3];
        for (slot, (table, filter)) in counts.iter_mut().zip(decided_tables()) {
            let n: i64 = sqlx::query_scalar(sql(format!("SELECT count(*) FROM {table} WHERE {}", numbered(filter))))
                .bind(before.millis())
                .fetch_one(&self.pool)
                .await?;
            *slot = u64::try_from(n).unwrap_or(0);
        }
        Ok(DecidedCases {
            disputes: counts[0],
            objections: counts[1],
            clearance_reviews: counts[2],
        })
    }

    async fn delete_decided_cases(&self, before: Timestamp, actor: &str, now: Timestamp) -> Result<DecidedCases, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql(format!(
            "DELETE FROM dispute_events WHERE dispute_seq IN (SELECT seq FROM disputes WHERE {})",
            numbered(DECIDED_DISPUTES)
        )))
        .bind(before.millis())
        .execute(&mut *tx)
        .await?;
        let mut counts = [0u64; 3];
        for (slot, (table, filter)) in counts.iter_mut().zip(decided_tables()) {
            *slot = sqlx::query(sql(format!("DELETE FROM {table} WHERE {}", numbered(filter))))
                .bind(before.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        let cases = DecidedCases {
            disputes: counts[0],
            objections: counts[1],
            clearance_reviews: counts[2],
        };
        if cases.total() > 0 {
            append_audit_tx(&mut tx, &[decided_audit(cases, actor, now)]).await?;
        }
        tx.commit().await?;
        Ok(cases)
    }
}

/// The tables of decided cases and what selects the decided ones, in [`DecidedCases`] order.
fn decided_tables() -> [(&'static str, &'static str); 3] {
    [
        ("disputes", DECIDED_DISPUTES),
        ("dispute_requests", DECIDED_OBJECTIONS),
        ("clearance_reviews", CLOSED_REVIEWS),
    ]
}

/// A filter with its `?` as PostgreSQL's `$1`.
fn numbered(filter: &str) -> String {
    filter.replace('?', "$1")
}
