//! Payment decisions and screening state on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vangnet_core::Timestamp;

use super::{DECISION_SELECT, PostgresStore, sql};
use crate::{DecisionOutcome, DecisionWrite, PaymentDecisionRow, ScreeningStore, StateBlob, StoreError};

#[async_trait]
impl ScreeningStore for PostgresStore {
    async fn store_decisions(&self, writes: &[DecisionWrite]) -> Result<Vec<DecisionOutcome>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(writes.len());
        for w in writes {
            let d = &w.decision;
            let inserted = sqlx::query(
                "INSERT INTO payment_decisions (partner_seq, payment_id, request_digest, decided_at, decision, score, reasons, rules_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (partner_seq, payment_id) DO NOTHING",
            )
            .bind(w.partner_seq)
            .bind(&d.payment_id)
            .bind(&d.request_digest)
            .bind(d.decided_at.millis())
            .bind(&d.decision)
            .bind(d.score)
            .bind(&d.reasons)
            .bind(&d.rules_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                let existing = sqlx::query(sql(format!("{DECISION_SELECT} WHERE partner_seq = $1 AND payment_id = $2")))
                    .bind(w.partner_seq)
                    .bind(&d.payment_id)
                    .fetch_one(&mut *tx)
                    .await?;
                out.push(DecisionOutcome::Existing(decision_row(&existing)?));
                continue;
            }
            let at = d.decided_at.millis();
            if let Some(p) = &w.payer {
                sqlx::query(
                    "INSERT INTO payer_profiles (payer, state, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (payer) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(&p.key)
                .bind(&p.state)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            for a in &w.accounts {
                sqlx::query(
                    "INSERT INTO account_activity (account, state, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (account) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(&a.key)
                .bind(&a.state)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            out.push(DecisionOutcome::Stored);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn payment_decisions(&self, partner_seq: i64, payment_ids: &[String]) -> Result<Vec<PaymentDecisionRow>, StoreError> {
        if payment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sql(format!("{DECISION_SELECT} WHERE partner_seq = $1 AND payment_id = ANY($2)")))
            .bind(partner_seq)
            .bind(payment_ids)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decision_row).collect()
    }

    async fn payment_decision(&self, partner_seq: i64, payment_id: &str) -> Result<Option<PaymentDecisionRow>, StoreError> {
        let row = sqlx::query(sql(format!("{DECISION_SELECT} WHERE partner_seq = $1 AND payment_id = $2")))
            .bind(partner_seq)
            .bind(payment_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decision_row).transpose()
    }

    async fn screening_state(&self, limit: u32) -> Result<(Vec<StateBlob>, Vec<StateBlob>), StoreError> {
        let mut out = Vec::with_capacity(2);
        for q in [
            "SELECT payer, state FROM payer_profiles ORDER BY updated_at DESC LIMIT $1",
            "SELECT account, state FROM account_activity ORDER BY updated_at DESC LIMIT $1",
        ] {
            let rows = sqlx::query(q).bind(i64::from(limit)).fetch_all(&self.pool).await?;
            out.push(
                rows.iter()
                    .map(|r| {
                        Ok(StateBlob {
                            key: r.try_get(0)?,
                            state: r.try_get(1)?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?,
            );
        }
        let accounts = out.pop().unwrap_or_default();
        let payers = out.pop().unwrap_or_default();
        Ok((payers, accounts))
    }
}

fn decision_row(r: &PgRow) -> Result<PaymentDecisionRow, StoreError> {
    Ok(PaymentDecisionRow {
        payment_id: r.try_get(0)?,
        request_digest: r.try_get(1)?,
        decided_at: Timestamp::from_millis(r.try_get(2)?),
        decision: r.try_get(3)?,
        score: r.try_get(4)?,
        reasons: r.try_get(5)?,
        rules_version: r.try_get(6)?,
    })
}
