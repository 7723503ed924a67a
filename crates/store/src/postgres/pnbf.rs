//! PNBF cases, their events and the bank-code directory on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use vangnet_core::Timestamp;

use super::{PostgresStore, sql};
use crate::rows::{PNBF_COLUMNS, PNBF_EVENT_COLUMNS};
use crate::{PnbfCaseRow, PnbfEventRow, PnbfStore, StoreError};

#[async_trait]
impl PnbfStore for PostgresStore {
    async fn pnbf_open(&self, case: &PnbfCaseRow, event: &PnbfEventRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql(format!(
            "INSERT INTO pnbf_cases ({PNBF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(&case.id)
        .bind(case.victim_bank)
        .bind(case.payee_bank)
        .bind(&case.state)
        .bind(case.version)
        .bind(case.opened_at.millis())
        .bind(case.updated_at.millis())
        .bind(case.term_ends.map(Timestamp::millis))
        .bind(case.remind_at.map(Timestamp::millis))
        .bind(case.naw_delete_at.map(Timestamp::millis))
        .bind(&case.link_digest)
        .bind(&case.body)
        .bind(&case.naw)
        .execute(&mut *tx)
        .await?;
        insert_pnbf_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pnbf_case(&self, id: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(pnbf_case_row).transpose()
    }

    async fn pnbf_case_by_link(&self, link_digest: &str) -> Result<Option<PnbfCaseRow>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE link_digest = $1")))
            .bind(link_digest)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(pnbf_case_row).transpose()
    }

    async fn pnbf_update(&self, case: &PnbfCaseRow, expected_version: i64, event: &PnbfEventRow) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE pnbf_cases SET payee_bank = $3, state = $4, version = $5, updated_at = $6, term_ends = $7, \
             remind_at = $8, naw_delete_at = $9, body = $10, naw = $11, link_digest = $12 WHERE id = $1 AND version = $2",
        )
        .bind(&case.id)
        .bind(expected_version)
        .bind(case.payee_bank)
        .bind(&case.state)
        .bind(case.version)
        .bind(case.updated_at.millis())
        .bind(case.term_ends.map(Timestamp::millis))
        .bind(case.remind_at.map(Timestamp::millis))
        .bind(case.naw_delete_at.map(Timestamp::millis))
        .bind(&case.body)
        .bind(&case.naw)
        .bind(&case.link_digest)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        insert_pnbf_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn pnbf_events(&self, case_id: &str) -> Result<Vec<PnbfEventRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {PNBF_EVENT_COLUMNS} FROM pnbf_events WHERE case_id = $1 ORDER BY seq"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pnbf_event_row).collect()
    }

    async fn pnbf_cases(&self, partner_seq: Option<i64>) -> Result<Vec<PnbfCaseRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE $1::BIGINT IS NULL OR victim_bank = $1 OR payee_bank = $1 ORDER BY opened_at DESC, id"
        )))
        .bind(partner_seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pnbf_case_row).collect()
    }

    async fn pnbf_due(&self, now: Timestamp) -> Result<Vec<PnbfCaseRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {PNBF_COLUMNS} FROM pnbf_cases WHERE term_ends <= $1 OR remind_at <= $1 OR naw_delete_at <= $1 ORDER BY opened_at, id"
        )))
        .bind(now.millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pnbf_case_row).collect()
    }

    async fn pnbf_set_bank_code(&self, code: &str, partner_seq: Option<i64>, now: Timestamp) -> Result<(), StoreError> {
        match partner_seq {
            Some(seq) => {
                sqlx::query(
                    "INSERT INTO pnbf_bank_codes (code, partner_seq, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO UPDATE SET partner_seq = excluded.partner_seq, updated_at = excluded.updated_at",
                )
                .bind(code)
                .bind(seq)
                .bind(now.millis())
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM pnbf_bank_codes WHERE code = $1")
                    .bind(code)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    async fn pnbf_bank_codes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT code, partner_seq FROM pnbf_bank_codes ORDER BY code")
            .fetch_all(&self.pool)
            .await?)
    }
}

fn pnbf_case_row(r: &PgRow) -> Result<PnbfCaseRow, StoreError> {
    let at = |i: usize| -> Result<Option<Timestamp>, sqlx::Error> { Ok(r.try_get::<Option<i64>, _>(i)?.map(Timestamp::from_millis)) };
    Ok(PnbfCaseRow {
        id: r.try_get(0)?,
        victim_bank: r.try_get(1)?,
        payee_bank: r.try_get(2)?,
        state: r.try_get(3)?,
        version: r.try_get(4)?,
        opened_at: Timestamp::from_millis(r.try_get(5)?),
        updated_at: Timestamp::from_millis(r.try_get(6)?),
        term_ends: at(7)?,
        remind_at: at(8)?,
        naw_delete_at: at(9)?,
        link_digest: r.try_get(10)?,
        body: r.try_get(11)?,
        naw: r.try_get(12)?,
    })
}

fn pnbf_event_row(r: &PgRow) -> Result<PnbfEventRow, StoreError> {
    Ok(PnbfEventRow {
        case_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        at: Timestamp::from_millis(r.try_get(2)?),
        actor: r.try_get(3)?,
        side: r.try_get(4)?,
        event: r.try_get(5)?,
        from_state: r.try_get(6)?,
        to_state: r.try_get(7)?,
        reason: r.try_get(8)?,
        details: r.try_get(9)?,
    })
}

async fn insert_pnbf_event(tx: &mut Transaction<'_, Postgres>, e: &PnbfEventRow) -> Result<(), StoreError> {
    sqlx::query(sql(format!(
        "INSERT INTO pnbf_events ({PNBF_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(&e.case_id)
    .bind(e.seq)
    .bind(e.at.millis())
    .bind(&e.actor)
    .bind(&e.side)
    .bind(&e.event)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.reason)
    .bind(&e.details)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
