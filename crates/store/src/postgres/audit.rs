//! The audit log on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vangnet_core::audit::{AuditEntry, AuditEvent};

use super::{PostgresStore, append_audit_tx, sql};
use crate::rows::{AUDIT_SELECT, AuditRecord};
use crate::{AuditStore, StoreError};

#[async_trait]
impl AuditStore for PostgresStore {
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
        let rows = sqlx::query(sql(format!(
            "{AUDIT_SELECT} WHERE actor = $1 OR starts_with(actor, $1 || '/') ORDER BY seq DESC LIMIT $2"
        )))
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
}

pub(super) fn audit_record(r: &PgRow) -> Result<AuditRecord, sqlx::Error> {
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
