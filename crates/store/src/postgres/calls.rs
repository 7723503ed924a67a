//! Call lists with owners, states and history, and opt-outs of the on-call signal on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use vangnet_core::Timestamp;

use super::{PostgresStore, Tx, append_audit_tx, sql};
use crate::batch::call_list_event;
use crate::rows::{CALL_ENTRY_SELECT, CALL_HISTORY_SELECT, CallEntryRecord, call_change};
use crate::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, CallStore, Partner, StoreError};

#[async_trait]
impl CallStore for PostgresStore {
    async fn add_call_numbers(
        &self,
        list: &str,
        numbers: &[String],
        owner: &Partner,
        state: CallEntryState,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CallListAdd>, StoreError> {
        add(&self.pool, list, numbers, owner, state, actor, now).await
    }

    async fn approve_call_number(&self, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError> {
        approve(&self.pool, list, e164, actor, now).await
    }

    async fn remove_call_number(
        &self,
        list: &str,
        e164: &str,
        owner: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<CallListRemove, StoreError> {
        remove(&self.pool, list, e164, owner, actor, now).await
    }

    async fn call_numbers(&self, list: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT e164 FROM call_numbers WHERE list = $1 AND state = 'active' ORDER BY e164")
                .bind(list)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn call_list_entries(&self, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
        entries(&self.pool, list, owner).await
    }

    async fn call_list_entry(&self, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        entry(&mut conn, list, e164).await
    }

    async fn call_list_history(&self, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
        history(&self.pool, list, e164).await
    }

    async fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool, now: Timestamp) -> Result<(), StoreError> {
        if opted_out {
            sqlx::query("INSERT INTO signal_opt_outs (subscriber_ref, at) VALUES ($1, $2) ON CONFLICT (subscriber_ref) DO NOTHING")
                .bind(subscriber_ref)
                .bind(now.millis())
                .execute(&self.pool)
                .await?;
        } else {
            sqlx::query("DELETE FROM signal_opt_outs WHERE subscriber_ref = $1")
                .bind(subscriber_ref)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn opt_outs(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT subscriber_ref FROM signal_opt_outs")
            .fetch_all(&self.pool)
            .await?)
    }
}

fn entry_record(r: &PgRow) -> Result<CallListEntry, StoreError> {
    CallEntryRecord {
        list: r.try_get(0)?,
        e164: r.try_get(1)?,
        owner_seq: r.try_get(2)?,
        owner_id: r.try_get(3)?,
        state: r.try_get(4)?,
        added_at: r.try_get(5)?,
        approved_at: r.try_get(6)?,
    }
    .into_entry()
}

async fn entry(conn: &mut PgConnection, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
    let row = sqlx::query(sql(format!("{CALL_ENTRY_SELECT} WHERE c.list = $1 AND c.e164 = $2")))
        .bind(list)
        .bind(e164)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(entry_record).transpose()
}

/// The entry, locked for the rest of the transaction.
async fn entry_for_update(tx: &mut Tx<'_>, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
    let row = sqlx::query(sql(format!(
        "{CALL_ENTRY_SELECT} WHERE c.list = $1 AND c.e164 = $2 FOR UPDATE OF c"
    )))
    .bind(list)
    .bind(e164)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(entry_record).transpose()
}

async fn entries(pool: &PgPool, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
    let rows = sqlx::query(sql(format!(
        "{CALL_ENTRY_SELECT} WHERE c.list = $1 AND ($2::BIGINT IS NULL OR c.partner_seq = $2) ORDER BY c.e164"
    )))
    .bind(list)
    .bind(owner)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_record).collect()
}

async fn history(pool: &PgPool, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
    let rows = sqlx::query(sql(format!(
        "{CALL_HISTORY_SELECT} WHERE e.list = $1 AND e.e164 = $2 ORDER BY e.seq"
    )))
    .bind(list)
    .bind(e164)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok(call_change(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

async fn record_change(
    tx: &mut Tx<'_>,
    list: &str,
    e164: &str,
    owner_seq: i64,
    actor: &str,
    change: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO call_number_events (list, e164, owner_seq, actor, change, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(list)
        .bind(e164)
        .bind(owner_seq)
        .bind(actor)
        .bind(change)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn add(
    pool: &PgPool,
    list: &str,
    numbers: &[String],
    owner: &Partner,
    state: CallEntryState,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<CallListAdd>, StoreError> {
    let mut tx = pool.begin().await?;
    let change = if state == CallEntryState::Pending { "requested" } else { "added" };
    // In a fixed order, so that two bulk requests cannot deadlock on each other's rows.
    let mut order: Vec<usize> = (0..numbers.len()).collect();
    order.sort_by(|a, b| numbers[*a].cmp(&numbers[*b]));
    let mut outcomes: Vec<Option<CallListAdd>> = vec![None; numbers.len()];
    for i in order {
        let n = &numbers[i];
        let approved = (state == CallEntryState::Active).then(|| now.millis());
        let inserted = sqlx::query(
            "INSERT INTO call_numbers (list, e164, partner_seq, added_at, state, approved_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (list, e164) DO NOTHING",
        )
        .bind(list)
        .bind(n)
        .bind(owner.seq)
        .bind(now.millis())
        .bind(state.as_str())
        .bind(approved)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        let found = entry(&mut tx, list, n)
            .await?
            .ok_or_else(|| StoreError::Database("a call-list entry vanished while it was written".into()))?;
        outcomes[i] = Some(if inserted {
            record_change(&mut tx, list, n, owner.seq, actor, change, now).await?;
            CallListAdd::Added(found)
        } else if found.owner_seq == owner.seq {
            CallListAdd::Existing(found)
        } else {
            CallListAdd::OwnedByOther(found)
        });
    }
    let outcomes: Vec<CallListAdd> = outcomes.into_iter().flatten().collect();
    let added = outcomes.iter().filter(|o| matches!(o, CallListAdd::Added(_))).count();
    if added > 0 {
        append_audit_tx(&mut tx, &[call_list_event(actor, list, change, added, now)]).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn approve(pool: &PgPool, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError> {
    let mut tx = pool.begin().await?;
    let Some(found) = entry_for_update(&mut tx, list, e164).await? else {
        return Ok(None);
    };
    if found.state == CallEntryState::Active {
        return Ok(Some(found));
    }
    sqlx::query("UPDATE call_numbers SET state = 'active', approved_at = $3 WHERE list = $1 AND e164 = $2")
        .bind(list)
        .bind(e164)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
    record_change(&mut tx, list, e164, found.owner_seq, actor, "approved", now).await?;
    append_audit_tx(&mut tx, &[call_list_event(actor, list, "approved", 1, now)]).await?;
    let approved = entry(&mut tx, list, e164).await?;
    tx.commit().await?;
    Ok(approved)
}

async fn remove(
    pool: &PgPool,
    list: &str,
    e164: &str,
    owner: Option<i64>,
    actor: &str,
    now: Timestamp,
) -> Result<CallListRemove, StoreError> {
    let mut tx = pool.begin().await?;
    let Some(found) = entry_for_update(&mut tx, list, e164).await? else {
        return Ok(CallListRemove::NotFound);
    };
    if owner.is_some_and(|o| o != found.owner_seq) {
        return Ok(CallListRemove::NotOwner(found));
    }
    sqlx::query("DELETE FROM call_numbers WHERE list = $1 AND e164 = $2")
        .bind(list)
        .bind(e164)
        .execute(&mut *tx)
        .await?;
    record_change(&mut tx, list, e164, found.owner_seq, actor, "removed", now).await?;
    append_audit_tx(&mut tx, &[call_list_event(actor, list, "removed", 1, now)]).await?;
    tx.commit().await?;
    Ok(CallListRemove::Removed(found))
}
