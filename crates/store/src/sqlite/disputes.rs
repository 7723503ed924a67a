//! Disputes on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::audit::AuditAction;
use vangnet_core::dispute::DisputeState;
use vangnet_core::indicator::IndicatorKind;

use super::reports::set_status_tx;
use super::{SqliteStore, append_audit_tx};
use crate::disputes::{DISPUTE_SELECT, DisputeRecord, dispute_audit, state, status_reason};
use crate::{DisputeChange, DisputeEvent, DisputeRow, DisputeStore, NewDispute, OpenOutcome, Partner, StoreError};

#[async_trait]
impl DisputeStore for SqliteStore {
    async fn open_dispute(&self, new: &NewDispute, by: &Partner, now: Timestamp) -> Result<OpenOutcome, StoreError> {
        let (new, by) = (new.clone(), by.clone());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let open: Option<String> = tx
                .query_row(
                    "SELECT id FROM disputes WHERE kind = ?1 AND value = ?2 AND state = 'open'",
                    params![new.kind.as_str(), new.value],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = open {
                return Ok(OpenOutcome::AlreadyOpen { id });
            }
            tx.execute(
                "INSERT INTO disputes (id, kind, value, state, opener_seq, reason, opened_at, due_at, remind_at, decided_at, version) \
                 VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8, NULL, 1)",
                params![
                    new.id,
                    new.kind.as_str(),
                    new.value,
                    by.seq,
                    new.reason,
                    now.millis(),
                    new.due_at.millis(),
                    new.remind_at.map(Timestamp::millis)
                ],
            )?;
            let seq = tx.last_insert_rowid();
            insert_event(&tx, seq, 1, now, &by.actor(), None, DisputeState::Open, &new.reason)?;
            let position = set_status_tx(
                &tx,
                new.kind,
                &new.value,
                DisputeState::Open.indicator_status(),
                Some(&status_reason(&new.id, DisputeState::Open)),
                by.actor(),
                new.audit_subject.clone(),
                now,
            )?;
            append_audit_tx(
                &tx,
                &[dispute_audit(
                    AuditAction::DisputeOpen,
                    &new.id,
                    DisputeState::Open,
                    &by.actor(),
                    &new.audit_subject,
                    now,
                )],
            )?;
            let dispute = by_id(&tx, &new.id)?.ok_or_else(|| StoreError::Corrupt("the new dispute is not there".to_owned()))?;
            tx.commit()?;
            Ok(OpenOutcome::Opened { dispute, position })
        })
        .await
    }

    async fn move_dispute(
        &self,
        id: &str,
        change: &DisputeChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<(DisputeRow, i64)>, StoreError> {
        let (id, change, actor) = (id.to_owned(), change.clone(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(current) = by_id(&tx, &id)? else {
                return Ok(None);
            };
            if current.version != change.expected_version {
                return Ok(None);
            }
            let version = current.version + 1;
            let decided = change.to.is_final().then_some(now.millis());
            let seq: i64 = tx.query_row(
                "UPDATE disputes SET state = ?2, version = ?3, decided_at = ?4 WHERE id = ?1 AND version = ?5 RETURNING seq",
                params![id, change.to.as_str(), version, decided, current.version],
                |r| r.get(0),
            )?;
            insert_event(&tx, seq, version, now, &actor, Some(current.state), change.to, &change.reason)?;
            let position = set_status_tx(
                &tx,
                current.kind,
                &current.value,
                change.to.indicator_status(),
                Some(&status_reason(&id, change.to)),
                actor.clone(),
                change.audit_subject.clone(),
                now,
            )?;
            append_audit_tx(
                &tx,
                &[dispute_audit(
                    AuditAction::DisputeMove,
                    &id,
                    change.to,
                    &actor,
                    &change.audit_subject,
                    now,
                )],
            )?;
            let moved = by_id(&tx, &id)?.ok_or_else(|| StoreError::Corrupt("the moved dispute is not there".to_owned()))?;
            tx.commit()?;
            Ok(Some((moved, position)))
        })
        .await
    }

    async fn dispute(&self, id: &str) -> Result<Option<DisputeRow>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| by_id(conn, &id)).await
    }

    async fn disputes(
        &self,
        state: Option<DisputeState>,
        opener: Option<i64>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisputeRow>, StoreError> {
        let after = after.map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{DISPUTE_SELECT} WHERE (?1 IS NULL OR d.state = ?1) AND (?2 IS NULL OR d.opener_seq = ?2) \
                 AND (?3 IS NULL OR d.seq > (SELECT seq FROM disputes WHERE id = ?3)) ORDER BY d.seq LIMIT ?4"
            ))?;
            let rows = stmt.query_map(params![state.map(DisputeState::as_str), opener, after, limit], record)?;
            rows.map(|r| r?.into_row()).collect()
        })
        .await
    }

    async fn dispute_events(&self, id: &str) -> Result<Vec<DisputeEvent>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT e.at, e.actor, e.event, e.from_state, e.to_state, e.reason FROM dispute_events e \
                 JOIN disputes d ON d.seq = e.dispute_seq WHERE d.id = ?1 ORDER BY e.seq",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
            rows.map(|row| {
                let (at, actor, event, from, to, reason) = row?;
                Ok(DisputeEvent {
                    at: Timestamp::from_millis(at),
                    actor,
                    event,
                    from_state: from.as_deref().map(state).transpose()?,
                    to_state: state(&to)?,
                    reason,
                })
            })
            .collect()
        })
        .await
    }

    async fn disputes_of(&self, kind: IndicatorKind, value: &str) -> Result<Vec<DisputeRow>, StoreError> {
        let value = value.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("{DISPUTE_SELECT} WHERE d.kind = ?1 AND d.value = ?2 ORDER BY d.seq"))?;
            let rows = stmt.query_map(params![kind.as_str(), value], record)?;
            rows.map(|r| r?.into_row()).collect()
        })
        .await
    }
}

fn record(r: &Row<'_>) -> rusqlite::Result<DisputeRecord> {
    Ok(DisputeRecord {
        id: r.get(0)?,
        kind: r.get(1)?,
        value: r.get(2)?,
        state: r.get(3)?,
        opener_seq: r.get(4)?,
        opener_id: r.get(5)?,
        reason: r.get(6)?,
        opened_at: r.get(7)?,
        due_at: r.get(8)?,
        remind_at: r.get(9)?,
        decided_at: r.get(10)?,
        version: r.get(11)?,
    })
}

fn by_id(conn: &Connection, id: &str) -> Result<Option<DisputeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{DISPUTE_SELECT} WHERE d.id = ?1"))?;
    stmt.query_row([id], record).optional()?.map(DisputeRecord::into_row).transpose()
}

#[allow(clippy::too_many_arguments)]
fn insert_event(
    tx: &Transaction<'_>,
    dispute_seq: i64,
    seq: i64,
    now: Timestamp,
    actor: &str,
    from: Option<DisputeState>,
    to: DisputeState,
    reason: &str,
) -> Result<(), StoreError> {
    let event = if from.is_none() { "opened" } else { to.as_str() };
    tx.execute(
        "INSERT INTO dispute_events (dispute_seq, seq, at, actor, event, from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![dispute_seq, seq, now.millis(), actor, event, from.map(DisputeState::as_str), to.as_str(), reason],
    )?;
    Ok(())
}
