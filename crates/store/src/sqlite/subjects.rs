//! Subject access on SQLite.

use async_trait::async_trait;
use rusqlite::params;
use vangnet_core::audit::AuditEntry;
use vangnet_core::indicator::IndicatorKind;

use super::SqliteStore;
use super::audit::audit_rows;
use super::dispute_requests::{clearance_record, request_record};
use crate::dispute_requests::{CLEARANCE_SELECT, REQUEST_SELECT};
use crate::subjects::MAX_AUDIT_SUBJECTS;
use crate::{ClearanceReviewRow, DisputeRequestRow, StoreError, SubjectStore};

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn audit_about(&self, subjects: &[String], after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let subjects: Vec<String> = subjects.iter().take(MAX_AUDIT_SUBJECTS).cloned().collect();
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let marks = vec!["?"; subjects.len()].join(", ");
            let n = subjects.len();
            let filter = format!("WHERE subject IN ({marks}) AND seq > ?{} ORDER BY seq LIMIT ?{}", n + 1, n + 2);
            let mut values: Vec<rusqlite::types::Value> = subjects.into_iter().map(rusqlite::types::Value::from).collect();
            values.push(after.into());
            values.push(i64::from(limit).into());
            audit_rows(conn, &filter, rusqlite::params_from_iter(values))
        })
        .await
    }

    async fn dispute_requests_about(&self, kind: IndicatorKind, value: &str) -> Result<Vec<DisputeRequestRow>, StoreError> {
        let value = value.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{REQUEST_SELECT} WHERE kind = ?1 AND value = ?2 ORDER BY seq"))?;
            let rows = stmt.query_map(params![kind.as_str(), value], request_record)?;
            rows.map(|r| r?.into_row()).collect()
        })
        .await
    }

    async fn clearance_reviews_about(&self, kind: IndicatorKind, value: &str) -> Result<Vec<ClearanceReviewRow>, StoreError> {
        let value = value.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{CLEARANCE_SELECT} WHERE c.kind = ?1 AND c.value = ?2 ORDER BY c.seq"))?;
            let rows = stmt.query_map(params![kind.as_str(), value], clearance_record)?;
            rows.map(|r| r?.into_row()).collect()
        })
        .await
    }
}
