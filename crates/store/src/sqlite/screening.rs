//! Payment decisions and screening state on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use vangnet_core::Timestamp;

use super::{DECISION_SELECT, SqliteStore};
use crate::{DecisionOutcome, DecisionWrite, PaymentDecisionRow, ScreeningStore, StateBlob, StoreError};

#[async_trait]
impl ScreeningStore for SqliteStore {
    async fn store_decisions(&self, writes: &[DecisionWrite]) -> Result<Vec<DecisionOutcome>, StoreError> {
        let writes = writes.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = Vec::with_capacity(writes.len());
            {
                let mut find = tx.prepare_cached(&format!("{DECISION_SELECT} WHERE partner_seq = ?1 AND payment_id = ?2"))?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO payment_decisions (partner_seq, payment_id, request_digest, decided_at, decision, score, reasons, rules_version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                let mut payer = tx.prepare_cached(
                    "INSERT INTO payer_profiles (payer, state, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (payer) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )?;
                let mut account = tx.prepare_cached(
                    "INSERT INTO account_activity (account, state, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (account) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )?;
                for w in &writes {
                    let d = &w.decision;
                    if let Some(existing) = find.query_row(params![w.partner_seq, d.payment_id], decision_row).optional()? {
                        out.push(DecisionOutcome::Existing(existing));
                        continue;
                    }
                    insert.execute(params![
                        w.partner_seq,
                        d.payment_id,
                        d.request_digest,
                        d.decided_at.millis(),
                        d.decision,
                        d.score,
                        d.reasons,
                        d.rules_version
                    ])?;
                    let at = d.decided_at.millis();
                    if let Some(p) = &w.payer {
                        payer.execute(params![p.key, p.state, at])?;
                    }
                    for a in &w.accounts {
                        account.execute(params![a.key, a.state, at])?;
                    }
                    out.push(DecisionOutcome::Stored);
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn payment_decisions(&self, partner_seq: i64, payment_ids: &[String]) -> Result<Vec<PaymentDecisionRow>, StoreError> {
        if payment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = payment_ids.to_vec();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in ids.chunks(500) {
                let marks = vec!["?"; chunk.len()].join(", ");
                let mut stmt = conn.prepare(&format!("{DECISION_SELECT} WHERE partner_seq = ? AND payment_id IN ({marks})"))?;
                let mut values: Vec<rusqlite::types::Value> = vec![partner_seq.into()];
                values.extend(chunk.iter().map(|id| rusqlite::types::Value::from(id.clone())));
                let rows = stmt.query_map(rusqlite::params_from_iter(values), decision_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn payment_decision(&self, partner_seq: i64, payment_id: &str) -> Result<Option<PaymentDecisionRow>, StoreError> {
        let payment_id = payment_id.to_owned();
        self.read(move |conn| {
            let mut find = conn.prepare_cached(&format!("{DECISION_SELECT} WHERE partner_seq = ?1 AND payment_id = ?2"))?;
            Ok(find.query_row(params![partner_seq, payment_id], decision_row).optional()?)
        })
        .await
    }

    async fn screening_state(&self, limit: u32) -> Result<(Vec<StateBlob>, Vec<StateBlob>), StoreError> {
        self.read(move |conn| {
            let load = |sql: &str| -> Result<Vec<StateBlob>, StoreError> {
                let mut stmt = conn.prepare(sql)?;
                let rows = stmt.query_map([limit], |r| {
                    Ok(StateBlob {
                        key: r.get(0)?,
                        state: r.get(1)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            };
            let payers = load("SELECT payer, state FROM payer_profiles ORDER BY updated_at DESC LIMIT ?1")?;
            let accounts = load("SELECT account, state FROM account_activity ORDER BY updated_at DESC LIMIT ?1")?;
            Ok((payers, accounts))
        })
        .await
    }
}

fn decision_row(r: &Row<'_>) -> rusqlite::Result<PaymentDecisionRow> {
    Ok(PaymentDecisionRow {
        payment_id: r.get(0)?,
        request_digest: r.get(1)?,
        decided_at: Timestamp::from_millis(r.get(2)?),
        decision: r.get(3)?,
        score: r.get(4)?,
        reasons: r.get(5)?,
        rules_version: r.get(6)?,
    })
}
