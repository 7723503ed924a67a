//! The call lists on SQLite: entries with owners and states, and their history.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;

use super::append_audit_tx;
use crate::batch::call_list_event;
use crate::rows::{CALL_ENTRY_SELECT, CALL_HISTORY_SELECT, CallEntryRecord, call_change};
use crate::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, Partner, StoreError};

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

pub(super) fn entry(conn: &Connection, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{CALL_ENTRY_SELECT} WHERE c.list = ?1 AND c.e164 = ?2"))?;
    stmt.query_row(params![list, e164], entry_record)
        .optional()?
        .map(CallEntryRecord::into_entry)
        .transpose()
}

pub(super) fn entries(conn: &Connection, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CALL_ENTRY_SELECT} WHERE c.list = ?1 AND (?2 IS NULL OR c.partner_seq = ?2) ORDER BY c.e164"
    ))?;
    stmt.query_map(params![list, owner], entry_record)?
        .map(|r| r.map_err(StoreError::from).and_then(CallEntryRecord::into_entry))
        .collect()
}

pub(super) fn history(conn: &Connection, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError> {
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

pub(super) fn add(
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

pub(super) fn approve(
    conn: &mut Connection,
    list: &str,
    e164: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Option<CallListEntry>, StoreError> {
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

pub(super) fn remove(
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
