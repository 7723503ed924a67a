//! The audit log on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use vangnet_core::audit::{AuditEntry, AuditEvent};

use super::{SqliteStore, append_audit_tx};
use crate::rows::{AUDIT_SELECT, AuditRecord};
use crate::{AuditStore, StoreError};

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let events = events.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            append_audit_tx(&tx, &events)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(move |conn| audit_rows(conn, "WHERE seq > ?1 ORDER BY seq LIMIT ?2", params![after, limit]))
            .await
    }

    async fn audit_entries_of(&self, actor: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let actor = actor.to_owned();
        self.read(move |conn| {
            audit_rows(
                conn,
                // `/` is followed by `0` in ASCII: the range holds exactly the actors `<actor>/…`.
                "WHERE actor = ?1 OR (actor > ?1 || '/' AND actor < ?1 || '0') ORDER BY seq DESC LIMIT ?2",
                params![actor, limit],
            )
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.read(|conn| {
            let head: Option<(i64, String)> = conn
                .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(head.map(|(seq, hash)| (u64::try_from(seq).unwrap_or(0), hash)))
        })
        .await
    }
}

pub(super) fn audit_record(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        details: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// The audit entries `AUDIT_SELECT` followed by `filter` finds.
pub(super) fn audit_rows(conn: &rusqlite::Connection, filter: &str, params: impl rusqlite::Params) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{AUDIT_SELECT} {filter}"))?;
    let rows = stmt.query_map(params, audit_record)?;
    Ok(rows
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(AuditRecord::into_entry)
        .collect())
}
