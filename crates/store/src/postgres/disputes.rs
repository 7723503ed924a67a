//! Disputes on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vangnet_core::Timestamp;
use vangnet_core::audit::AuditAction;
use vangnet_core::dispute::DisputeState;
use vangnet_core::indicator::IndicatorKind;

use super::reports::set_status_tx;
use super::{PostgresStore, Tx, append_audit_tx, sql};
use crate::disputes::{DISPUTE_SELECT, DisputeRecord, dispute_audit, state, status_reason};
use crate::{DisputeChange, DisputeEvent, DisputeRow, DisputeStore, NewDispute, OpenOutcome, Partner, StoreError};

#[async_trait]
impl DisputeStore for PostgresStore {
    async fn open_dispute(&self, new: &NewDispute, by: &Partner, now: Timestamp) -> Result<OpenOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The partial unique index keeps one open dispute per indicator, also between nodes.
        let seq: Option<i64> = sqlx::query_scalar(
            "INSERT INTO disputes (id, kind, value, state, opener_seq, reason, opened_at, due_at, remind_at, decided_at, version) \
             VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, NULL, 1) \
             ON CONFLICT (kind, value) WHERE state = 'open' DO NOTHING RETURNING seq",
        )
        .bind(&new.id)
        .bind(new.kind.as_str())
        .bind(&new.value)
        .bind(by.seq)
        .bind(&new.reason)
        .bind(now.millis())
        .bind(new.due_at.millis())
        .bind(new.remind_at.map(Timestamp::millis))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(seq) = seq else {
            let id: String = sqlx::query_scalar("SELECT id FROM disputes WHERE kind = $1 AND value = $2 AND state = 'open'")
                .bind(new.kind.as_str())
                .bind(&new.value)
                .fetch_one(&mut *tx)
                .await?;
            return Ok(OpenOutcome::AlreadyOpen { id });
        };
        let actor = by.actor();
        insert_event(&mut tx, seq, 1, now, &actor, None, DisputeState::Open, &new.reason).await?;
        let status = DisputeState::Open.indicator_status();
        let position = set_status_tx(
            &mut tx,
            new.kind,
            &new.value,
            status,
            Some(&status_reason(&new.id, DisputeState::Open)),
            &actor,
            &new.audit_subject,
            now,
        )
        .await?;
        let audit = dispute_audit(
            AuditAction::DisputeOpen,
            &new.id,
            DisputeState::Open,
            &actor,
            &new.audit_subject,
            now,
        );
        append_audit_tx(&mut tx, &[audit]).await?;
        let dispute = by_id(&mut tx, &new.id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the new dispute is not there".to_owned()))?;
        tx.commit().await?;
        Ok(OpenOutcome::Opened { dispute, position })
    }

    async fn move_dispute(
        &self,
        id: &str,
        change: &DisputeChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<(DisputeRow, i64)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(current) = by_id(&mut tx, id, true).await? else {
            return Ok(None);
        };
        if current.version != change.expected_version {
            return Ok(None);
        }
        let version = current.version + 1;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE disputes SET state = $2, version = $3, decided_at = $4 WHERE id = $1 AND version = $5 RETURNING seq",
        )
        .bind(id)
        .bind(change.to.as_str())
        .bind(version)
        .bind(change.to.is_final().then_some(now.millis()))
        .bind(current.version)
        .fetch_one(&mut *tx)
        .await?;
        insert_event(&mut tx, seq, version, now, actor, Some(current.state), change.to, &change.reason).await?;
        let status = change.to.indicator_status();
        let position = set_status_tx(
            &mut tx,
            current.kind,
            &current.value,
            status,
            Some(&status_reason(id, change.to)),
            actor,
            &change.audit_subject,
            now,
        )
        .await?;
        let audit = dispute_audit(AuditAction::DisputeMove, id, change.to, actor, &change.audit_subject, now);
        append_audit_tx(&mut tx, &[audit]).await?;
        let moved = by_id(&mut tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the moved dispute is not there".to_owned()))?;
        tx.commit().await?;
        Ok(Some((moved, position)))
    }

    async fn dispute(&self, id: &str) -> Result<Option<DisputeRow>, StoreError> {
        let row = sqlx::query(sql(format!("{DISPUTE_SELECT} WHERE d.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| record(r)?.into_row()).transpose()
    }

    async fn disputes(
        &self,
        state: Option<DisputeState>,
        opener: Option<i64>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisputeRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "{DISPUTE_SELECT} WHERE ($1::TEXT IS NULL OR d.state = $1) AND ($2::BIGINT IS NULL OR d.opener_seq = $2) \
             AND ($3::TEXT IS NULL OR d.seq > (SELECT seq FROM disputes WHERE id = $3)) ORDER BY d.seq LIMIT $4"
        )))
        .bind(state.map(DisputeState::as_str))
        .bind(opener)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| record(r)?.into_row()).collect()
    }

    async fn dispute_events(&self, id: &str) -> Result<Vec<DisputeEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.at, e.actor, e.event, e.from_state, e.to_state, e.reason FROM dispute_events e \
             JOIN disputes d ON d.seq = e.dispute_seq WHERE d.id = $1 ORDER BY e.seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let from: Option<String> = r.try_get(3)?;
                let to: String = r.try_get(4)?;
                Ok(DisputeEvent {
                    at: Timestamp::from_millis(r.try_get(0)?),
                    actor: r.try_get(1)?,
                    event: r.try_get(2)?,
                    from_state: from.as_deref().map(state).transpose()?,
                    to_state: state(&to)?,
                    reason: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn disputes_of(&self, kind: IndicatorKind, value: &str) -> Result<Vec<DisputeRow>, StoreError> {
        let rows = sqlx::query(sql(format!("{DISPUTE_SELECT} WHERE d.kind = $1 AND d.value = $2 ORDER BY d.seq")))
            .bind(kind.as_str())
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| record(r)?.into_row()).collect()
    }
}

fn record(r: &PgRow) -> Result<DisputeRecord, StoreError> {
    Ok(DisputeRecord {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        value: r.try_get(2)?,
        state: r.try_get(3)?,
        opener_seq: r.try_get(4)?,
        opener_id: r.try_get(5)?,
        reason: r.try_get(6)?,
        opened_at: r.try_get(7)?,
        due_at: r.try_get(8)?,
        remind_at: r.try_get(9)?,
        decided_at: r.try_get(10)?,
        version: r.try_get(11)?,
    })
}

/// A dispute by id inside `tx`; `lock` takes its row for the rest of the transaction.
async fn by_id(tx: &mut Tx<'_>, id: &str, lock: bool) -> Result<Option<DisputeRow>, StoreError> {
    let lock = if lock { " FOR UPDATE OF d" } else { "" };
    let row = sqlx::query(sql(format!("{DISPUTE_SELECT} WHERE d.id = $1{lock}")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(|r| record(r)?.into_row()).transpose()
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut Tx<'_>,
    dispute_seq: i64,
    seq: i64,
    now: Timestamp,
    actor: &str,
    from: Option<DisputeState>,
    to: DisputeState,
    reason: &str,
) -> Result<(), StoreError> {
    let event = if from.is_none() { "opened" } else { to.as_str() };
    sqlx::query(
        "INSERT INTO dispute_events (dispute_seq, seq, at, actor, event, from_state, to_state, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(dispute_seq)
    .bind(seq)
    .bind(now.millis())
    .bind(actor)
    .bind(event)
    .bind(from.map(DisputeState::as_str))
    .bind(to.as_str())
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
