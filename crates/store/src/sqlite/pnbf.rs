//! PNBF cases, their events and the bank-code directory on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;

use super::SqliteStore;
use crate::rows::{PNBF_COLUMNS, PNBF_EVENT_COLUMNS};
use crate::{PnbfCaseRow, PnbfEventRow, PnbfStore, StoreError};

#[async_trait]
impl PnbfStore for SqliteStore {
    async fn pnbf_open(&self, case: &PnbfCaseRow, event: &PnbfEventRow) -> Result<(), StoreError> {
        let (case, event) = (case.clone(), event.clone());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                &format!("INSERT INTO pnbf_cases ({PNBF_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    case.id,
                    case.victim_bank,
                    case.payee_bank,
                    case.state,
                    case.version,
                    case.opened_at.millis(),
                    case.updated_at.millis(),
                    case.term_ends.map(Timestamp::millis),
                    case.remind_at.map(Timestamp::millis),
                    case.naw_delete_at.map(Timestamp::millis),
                    case.link_digest,
                    case.body,
                    case.naw
                ],
            )?;
            insert_pnbf_event(&tx, &event)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn pnbf_case(&self, id: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE id = ?1"))?;
            Ok(stmt.query_row([id], pnbf_case_row).optional()?)
        })
        .await
    }

    async fn pnbf_case_by_link(&self, link_digest: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let digest = link_digest.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE link_digest = ?1"))?;
            Ok(stmt.query_row([digest], pnbf_case_row).optional()?)
        })
        .await
    }

    async fn pnbf_update(&self, case: &PnbfCaseRow, expected_version: i64, event: &PnbfEventRow) -> Result<bool, StoreError> {
        let (case, event) = (case.clone(), event.clone());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE pnbf_cases SET payee_bank = ?3, state = ?4, version = ?5, updated_at = ?6, term_ends = ?7, \
                 remind_at = ?8, naw_delete_at = ?9, body = ?10, naw = ?11, link_digest = ?12 WHERE id = ?1 AND version = ?2",
                params![
                    case.id,
                    expected_version,
                    case.payee_bank,
                    case.state,
                    case.version,
                    case.updated_at.millis(),
                    case.term_ends.map(Timestamp::millis),
                    case.remind_at.map(Timestamp::millis),
                    case.naw_delete_at.map(Timestamp::millis),
                    case.body,
                    case.naw,
                    case.link_digest
                ],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            insert_pnbf_event(&tx, &event)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn pnbf_events(&self, case_id: &str) -> Result<Vec<PnbfEventRow>, StoreError> {
        let id = case_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {PNBF_EVENT_COLUMNS} FROM pnbf_events WHERE case_id = ?1 ORDER BY seq"
            ))?;
            let rows = stmt.query_map([id], pnbf_event_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn pnbf_cases(&self, partner_seq: Option<i64>) -> Result<Vec<PnbfCaseRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE ?1 IS NULL OR victim_bank = ?1 OR payee_bank = ?1 ORDER BY opened_at DESC, id"
            ))?;
            let rows = stmt.query_map([partner_seq], pnbf_case_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn pnbf_due(&self, now: Timestamp) -> Result<Vec<PnbfCaseRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE term_ends <= ?1 UNION \
                 SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE remind_at <= ?1 UNION \
                 SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE naw_delete_at <= ?1 ORDER BY opened_at, id"
            ))?;
            let rows = stmt.query_map([now.millis()], pnbf_case_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn pnbf_set_bank_code(&self, code: &str, partner_seq: Option<i64>, now: Timestamp) -> Result<(), StoreError> {
        let code = code.to_owned();
        self.write(move |conn| {
            match partner_seq {
                Some(seq) => conn.execute(
                    "INSERT INTO pnbf_bank_codes (code, partner_seq, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (code) DO UPDATE SET partner_seq = excluded.partner_seq, updated_at = excluded.updated_at",
                    params![code, seq, now.millis()],
                )?,
                None => conn.execute("DELETE FROM pnbf_bank_codes WHERE code = ?1", [code])?,
            };
            Ok(())
        })
        .await
    }

    async fn pnbf_bank_codes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT code, partner_seq FROM pnbf_bank_codes ORDER BY code")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

fn pnbf_case_row(r: &Row<'_>) -> rusqlite::Result<PnbfCaseRow> {
    let at = |i: usize| -> rusqlite::Result<Option<Timestamp>> { Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp::from_millis)) };
    Ok(PnbfCaseRow {
        id: r.get(0)?,
        victim_bank: r.get(1)?,
        payee_bank: r.get(2)?,
        state: r.get(3)?,
        version: r.get(4)?,
        opened_at: Timestamp::from_millis(r.get(5)?),
        updated_at: Timestamp::from_millis(r.get(6)?),
        term_ends: at(7)?,
        remind_at: at(8)?,
        naw_delete_at: at(9)?,
        link_digest: r.get(10)?,
        body: r.get(11)?,
        naw: r.get(12)?,
    })
}

fn pnbf_event_row(r: &Row<'_>) -> rusqlite::Result<PnbfEventRow> {
    Ok(PnbfEventRow {
        case_id: r.get(0)?,
        seq: r.get(1)?,
        at: Timestamp::from_millis(r.get(2)?),
        actor: r.get(3)?,
        side: r.get(4)?,
        event: r.get(5)?,
        from_state: r.get(6)?,
        to_state: r.get(7)?,
        reason: r.get(8)?,
        details: r.get(9)?,
    })
}

fn insert_pnbf_event(tx: &Transaction<'_>, e: &PnbfEventRow) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO pnbf_events ({PNBF_EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            e.case_id,
            e.seq,
            e.at.millis(),
            e.actor,
            e.side,
            e.event,
            e.from_state,
            e.to_state,
            e.reason,
            e.details
        ],
    )?;
    Ok(())
}
