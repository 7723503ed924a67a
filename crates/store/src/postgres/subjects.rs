//! Subject access on PostgreSQL.

use async_trait::async_trait;
use vangnet_core::audit::AuditEntry;
use vangnet_core::indicator::IndicatorKind;

use super::audit::audit_record;
use super::dispute_requests::{clearance_record, request_record};
use super::{PostgresStore, sql};
use crate::dispute_requests::{CLEARANCE_SELECT, REQUEST_SELECT};
use crate::rows::AUDIT_SELECT;
use crate::subjects::MAX_AUDIT_SUBJECTS;
use crate::{ClearanceReviewRow, DisputeRequestRow, StoreError, SubjectStore};

#[async_trait]
impl SubjectStore for PostgresStore {
    async fn audit_about(&self, subjects: &[String], after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let subjects: Vec<String> = subjects.iter().take(MAX_AUDIT_SUBJECTS).cloned().collect();
        let rows = sqlx::query(sql(format!(
            "{AUDIT_SELECT} WHERE subject = ANY($1) AND seq > $2 ORDER BY seq LIMIT $3"
        )))
        .bind(subjects)
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(audit_record(r)?.into_entry())).collect()
    }

    async fn dispute_requests_about(&self, kind: IndicatorKind, value: &str) -> Result<Vec<DisputeRequestRow>, StoreError> {
        let rows = sqlx::query(sql(format!("{REQUEST_SELECT} WHERE kind = $1 AND value = $2 ORDER BY seq")))
            .bind(kind.as_str())
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| request_record(r)?.into_row()).collect()
    }

    async fn clearance_reviews_about(&self, kind: IndicatorKind, value: &str) -> Result<Vec<ClearanceReviewRow>, StoreError> {
        let rows = sqlx::query(sql(format!("{CLEARANCE_SELECT} WHERE c.kind = $1 AND c.value = $2 ORDER BY c.seq")))
            .bind(kind.as_str())
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| clearance_record(r)?.into_row()).collect()
    }
}
