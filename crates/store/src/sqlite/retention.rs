//! Retention on SQLite: candidates past their term, and deleting reports.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::FraudType;

use super::{SqliteStore, append_audit_tx, report_indicators};
use crate::retention::{CLOSED_REVIEWS, DECIDED_DISPUTES, DECIDED_OBJECTIONS, decided_audit, deletion_audit};
use crate::rows::fraud_type_column;
use crate::{DecidedCases, DeletedReport, Deletion, RetentionCandidate, RetentionStore, StoreError, parse_key};

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn retention_candidates(
        &self,
        after: i64,
        received_before: Timestamp,
        cleared_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<RetentionCandidate>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT r.seq, r.id, r.fraud_type, p.kind, r.received_at, \
                 (SELECT min(i.status_at) FROM report_indicators ri JOIN indicators i ON i.kind = ri.kind AND i.value = ri.value \
                  WHERE ri.report_seq = r.seq AND i.status = 'cleared') AS cleared_at \
                 FROM reports r JOIN partners p ON p.seq = r.partner_seq \
                 WHERE r.seq > ?1 AND (r.received_at < ?2 OR EXISTS (SELECT 1 FROM report_indicators ri \
                   JOIN indicators i ON i.kind = ri.kind AND i.value = ri.value \
                   WHERE ri.report_seq = r.seq AND i.status = 'cleared' AND i.status_at < ?3)) \
                 ORDER BY r.seq LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![after, received_before.millis(), cleared_before.millis(), limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })?;
            rows.map(|row| {
                let (seq, id, fraud_type, kind, received, cleared) = row?;
                Ok(RetentionCandidate {
                    seq,
                    id,
                    fraud_type: parse_key(&fraud_type, "fraud type", FraudType::from_key)?,
                    source: parse_key(&kind, "partner kind", PartnerKind::from_key)?,
                    received_at: Timestamp::from_millis(received),
                    cleared_at: cleared.map(Timestamp::from_millis),
                })
            })
            .collect()
        })
        .await
    }

    async fn delete_reports(&self, seqs: &[i64], why: Deletion<'_>, actor: &str, now: Timestamp) -> Result<Vec<DeletedReport>, StoreError> {
        let (seqs, actor) = (seqs.to_vec(), actor.to_owned());
        let reason = match why {
            Deletion::Retention => None,
            Deletion::Erasure { reason } => Some(reason.to_owned()),
        };
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut deleted = Vec::with_capacity(seqs.len());
            let mut ids = Vec::with_capacity(seqs.len());
            for seq in seqs {
                let found: Option<(String, String, bool)> = tx
                    .query_row(
                        "SELECT r.id, r.fraud_type, EXISTS (SELECT 1 FROM retractions x WHERE x.report_seq = r.seq) FROM reports r WHERE r.seq = ?1",
                        [seq],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                let Some((id, fraud_type, retracted)) = found else { continue };
                let fraud_type = parse_key(&fraud_type, "fraud type", FraudType::from_key)?;
                let indicators = report_indicators(&tx, seq)?;
                let column = fraud_type_column(fraud_type);
                for (kind, value) in &indicators {
                    if !retracted {
                        tx.prepare_cached(&format!(
                            "UPDATE indicators SET reports = reports - 1, {column} = {column} - 1 WHERE kind = ?1 AND value = ?2"
                        ))?
                        .execute(params![kind.as_str(), value])?;
                    }
                    tx.prepare_cached("INSERT INTO changes (at, change, report_seq, kind, value) VALUES (?1, 'deletion', ?2, ?3, ?4)")?
                        .execute(params![now.millis(), seq, kind.as_str(), value])?;
                    tx.prepare_cached("DELETE FROM indicators WHERE kind = ?1 AND value = ?2 AND reports <= 0 AND status = 'active'")?
                        .execute(params![kind.as_str(), value])?;
                }
                for statement in [
                    "DELETE FROM report_indicators WHERE report_seq = ?1",
                    "DELETE FROM retractions WHERE report_seq = ?1",
                    "DELETE FROM citizen_reviews WHERE report_seq = ?1",
                    "DELETE FROM clearance_reviews WHERE report_seq = ?1",
                    "DELETE FROM reports WHERE seq = ?1",
                ] {
                    tx.prepare_cached(statement)?.execute([seq])?;
                }
                ids.push(id);
                deleted.push(DeletedReport { seq, indicators });
            }
            if !deleted.is_empty() {
                let why = match &reason {
                    Some(reason) => Deletion::Erasure { reason },
                    None => Deletion::Retention,
                };
                append_audit_tx(&tx, &[deletion_audit(why, &ids, &actor, now)])?;
            }
            tx.commit()?;
            Ok(deleted)
        })
        .await
    }

    async fn decided_cases_before(&self, before: Timestamp) -> Result<DecidedCases, StoreError> {
        self.read(move |conn| {
            let count = |table: &str, filter: &str| -> Result<u64, StoreError> {
                let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table} WHERE {filter}"), [before.millis()], |r| {
                    r.get(0)
                })?;
                Ok(u64::try_from(n).unwrap_or(0))
            };
            Ok(DecidedCases {
                disputes: count("disputes", DECIDED_DISPUTES)?,
                objections: count("dispute_requests", DECIDED_OBJECTIONS)?,
                clearance_reviews: count("clearance_reviews", CLOSED_REVIEWS)?,
            })
        })
        .await
    }

    async fn delete_decided_cases(&self, before: Timestamp, actor: &str, now: Timestamp) -> Result<DecidedCases, StoreError> {
        let actor = actor.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let at = before.millis();
            tx.execute(
                &format!("DELETE FROM dispute_events WHERE dispute_seq IN (SELECT seq FROM disputes WHERE {DECIDED_DISPUTES})"),
                [at],
            )?;
            let cases = DecidedCases {
                disputes: tx.execute(&format!("DELETE FROM disputes WHERE {DECIDED_DISPUTES}"), [at])? as u64,
                objections: tx.execute(&format!("DELETE FROM dispute_requests WHERE {DECIDED_OBJECTIONS}"), [at])? as u64,
                clearance_reviews: tx.execute(&format!("DELETE FROM clearance_reviews WHERE {CLOSED_REVIEWS}"), [at])? as u64,
            };
            if cases.total() > 0 {
                append_audit_tx(&tx, &[decided_audit(cases, &actor, now)])?;
            }
            tx.commit()?;
            Ok(cases)
        })
        .await
    }
}
