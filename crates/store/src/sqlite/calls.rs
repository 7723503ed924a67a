//! Call lists with owners, states and history, and opt-outs of the on-call signal on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;

use super::{SqliteStore, append_audit_tx};
use crate::batch::call_list_event;
use crate::rows::{CALL_ENTRY_SELECT, CALL_HISTORY_SELECT, CallEntryRecord, call_change};
use crate::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, CallStore, Partner, StoreError};

#[async_trait]
impl CallStore for SqliteStore {
    async fn add_call_numbers(
        &self,
        list: &str,
        numbers: &[String],
        owner: &Partner,
        state: CallEntryState,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CallListAdd>, StoreError> {
        let (list, numbers, owner, actor) = (list.to_owned(), numbers.to_vec(), owner.clone(), actor.to_owned());
        self.write(move |conn| add(conn, &list, &numbers, &owner, state, &actor, now)).await
    }

    async fn approve_call_number(&self, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError> {
        let (list, e164, actor) = (list.to_owned(), e164.to_owned(), actor.to_owned());
        self.write(move |conn| approve(conn, &list, &e164, &actor, now)).await
    }

    async fn remove_call_number(
        &self,
        list: &str,
        e164: &str,
        owner: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<CallListRemove, StoreError> {
        let (list, e164, actor) = (list.to_owned(), e164.to_owned(), actor.to_owned());
        self.write(move |conn| remove(conn, &list, &e164, owner, &actor, now)).await
    }

    async fn call_numbers(&self, list: &str) -> Result<Vec<String>, StoreError> {
        let list = list.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT e164 FROM call_numbers WHERE list = ?1 AND state = 'active' ORDER BY e164")?;
            let rows = stmt.query_map([list], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }

    async fn call_list_entries(&self, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
        let list = list.to_owned();
        self.read(move |conn| entries(conn, &list, owner)).await
    }

    async fn call_list_entry(&self, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
        let (list, e164) = (list.to_owned(), e164.to_owned());
        self.read(move |conn| entry(conn, &list, &e164)).await
    }

    async fn call_list_history(&self, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
        let (list, e164) = (list.to_owned(), e164.to_owned());
        self.read(move |conn| history(conn, &list, &e164)).await
    }

    async fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool, now: Timestamp) -> Result<(), StoreError> {
        let subscriber_ref = subscriber_ref.to_owned();
        self.write(move |conn| {
            if opted_out {
                conn.execute(
                    "INSERT INTO signal_opt_outs (subscriber_ref, at) VALUES (?1, ?2) ON CONFLICT (subscriber_ref) DO NOTHING",
                    params![subscriber_ref, now.millis()],
                )?;
            } else {
                conn.execute("DELETE FROM signal_opt_outs WHERE subscriber_ref = ?1", [subscriber_ref])?;
            }
            Ok(())
        })
        .await
    }

    async fn opt_outs(&self) -> Result<Vec<String>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT subscriber_ref FROM signal_opt_outs")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }
}

fn entry_record(r: &Row<'_>) -> rusqlite::Result<CallEntryRecord> {
    Ok(CallEntryRecord {
        list: r.get(0)?,
        e164: r.get(1)?,
        owner_seq: r.get(2)?,
        owner_id: r.get(3)?,
        state: r.get(4)?,
        added_at: r.get(5)?,
        approved_at: r.get(6)?,
    })
}

fn entry(conn: &Connection, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{CALL_ENTRY_SELECT} WHERE c.list = ?1 AND c.e164 = ?2"))?;
    stmt.query_row(params![list, e164], entry_record)
        .optional()?
        .map(CallEntryRecord::into_entry)
        .transpose()
}

fn entries(conn: &Connection, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CALL_ENTRY_SELECT} WHERE c.list = ?1 AND (?2 IS NULL OR c.partner_seq = ?2) ORDER BY c.e164"
    ))?;
    stmt.query_map(params![list, owner], entry_record)?
        .map(|r| r.map_err(StoreError::from).and_then(CallEntryRecord::into_entry))
        .collect()
}

fn history(conn: &Connection, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{CALL_HISTORY_SELECT} WHERE e.list = ?1 AND e.e164 = ?2 ORDER BY e.seq"))?;
    let rows = stmt.query_map(params![list, e164], |r| Ok(call_change(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn record_change(
    tx: &Transaction<'_>,
    list: &str,
    e164: &str,
    owner_seq: i64,
    actor: &str,
    change: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO call_number_events (list, e164, owner_seq, actor, change, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![list, e164, owner_seq, actor, change, now.millis()],
    )?;
    Ok(())
}

fn add(
    conn: &mut Connection,
    list: &str,
    numbers: &[String],
    owner: &Partner,
    state: CallEntryState,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<CallListAdd>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(numbers.len());
    let change = if state == CallEntryState::Pending { "requested" } else { "added" };
    for n in numbers {
        if let Some(existing) = entry(&tx, list, n)? {
            outcomes.push(if existing.owner_seq == owner.seq {
                CallListAdd::Existing(existing)
            } else {
                CallListAdd::OwnedByOther(existing)
            });
            continue;
        }
        let approved = (state == CallEntryState::Active).then(|| now.millis());
        tx.execute(
            "INSERT INTO call_numbers (list, e164, partner_seq, added_at, state, approved_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![list, n, owner.seq, now.millis(), state.as_str(), approved],
        )?;
        record_change(&tx, list, n, owner.seq, actor, change, now)?;
        outcomes.push(CallListAdd::Added(
            entry(&tx, list, n)?.ok_or_else(|| StoreError::Database("the entry just written is missing".into()))?,
        ));
    }
    let added = outcomes.iter().filter(|o| matches!(o, CallListAdd::Added(_))).count();
    if added > 0 {
        append_audit_tx(&tx, &[call_list_event(actor, list, change, added, now)])?;
    }
    tx.commit()?;
    Ok(outcomes)
}

fn approve(conn: &mut Connection, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(found) = entry(&tx, list, e164)? else {
        return Ok(None);
    };
    if found.state == CallEntryState::Active {
        return Ok(Some(found));
    }
    tx.execute(
        "UPDATE call_numbers SET state = 'active', approved_at = ?3 WHERE list = ?1 AND e164 = ?2",
        params![list, e164, now.millis()],
    )?;
    record_change(&tx, list, e164, found.owner_seq, actor, "approved", now)?;
    append_audit_tx(&tx, &[call_list_event(actor, list, "approved", 1, now)])?;
    let approved = entry(&tx, list, e164)?;
    tx.commit()?;
    Ok(approved)
}

fn remove(
    conn: &mut Connection,
    list: &str,
    e164: &str,
    owner: Option<i64>,
    actor: &str,
    now: Timestamp,
) -> Result<CallListRemove, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(found) = entry(&tx, list, e164)? else {
        return Ok(CallListRemove::NotFound);
    };
    if owner.is_some_and(|o| o != found.owner_seq) {
        return Ok(CallListRemove::NotOwner(found));
    }
    tx.execute("DELETE FROM call_numbers WHERE list = ?1 AND e164 = ?2", params![list, e164])?;
    record_change(&tx, list, e164, found.owner_seq, actor, "removed", now)?;
    append_audit_tx(&tx, &[call_list_event(actor, list, "removed", 1, now)])?;
    tx.commit()?;
    Ok(CallListRemove::Removed(found))
}
