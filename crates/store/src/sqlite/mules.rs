//! Transactions and mule flags on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter, types::Value};
use vangnet_core::Timestamp;

use super::SqliteStore;
use crate::StoreError;
use crate::mules::{AlertScope, FlagAccount, FlagRow, FlagWrite, MAX_FLAG_PAGE, MuleStore, TransactionOutcome, TransactionRow};

const FLAG_SELECT: &str = "SELECT seq, raised_at, pattern, score, window_from, window_to, amount_minor, more_accounts FROM mule_flags";

/// The flags a `WHERE …` filter selects, with their accounts.
fn load_flags(conn: &Connection, filter: &str, values: Vec<Value>) -> Result<Vec<FlagRow>, StoreError> {
    let mut stmt = conn.prepare(&format!("{FLAG_SELECT} {filter}"))?;
    let mut flags = stmt
        .query_map(params_from_iter(values), |r| {
            Ok(FlagRow {
                seq: r.get(0)?,
                flag: FlagWrite {
                    raised_at: Timestamp::from_millis(r.get(1)?),
                    pattern: r.get(2)?,
                    score: r.get(3)?,
                    window_from: Timestamp::from_millis(r.get(4)?),
                    window_to: Timestamp::from_millis(r.get(5)?),
                    amount_minor: r.get(6)?,
                    more_accounts: r.get(7)?,
                    accounts: Vec::new(),
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut accounts =
        conn.prepare_cached("SELECT account, bank, iban, centre FROM mule_flag_accounts WHERE flag_seq = ?1 ORDER BY position")?;
    for f in &mut flags {
        f.flag.accounts = accounts
            .query_map([f.seq], |r| {
                Ok(FlagAccount {
                    account: r.get(0)?,
                    bank: r.get(1)?,
                    iban: r.get(2)?,
                    centre: r.get::<_, i64>(3)? != 0,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
    }
    Ok(flags)
}

fn marks(n: usize, first: usize) -> String {
    (first..first + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

#[async_trait]
impl MuleStore for SqliteStore {
    async fn store_transactions(&self, partner_seq: i64, rows: &[TransactionRow]) -> Result<Vec<TransactionOutcome>, StoreError> {
        let rows = rows.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = Vec::with_capacity(rows.len());
            {
                let mut find = tx.prepare_cached("SELECT digest FROM mule_transactions WHERE partner_seq = ?1 AND tx_id = ?2")?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO mule_transactions (partner_seq, tx_id, digest, at, payer, payee, payer_bank, payee_bank, \
                     amount_minor, received_minor, stored_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?;
                let now = Timestamp::now().millis();
                for r in &rows {
                    if let Some(digest) = find
                        .query_row(params![partner_seq, r.id], |row| row.get::<_, String>(0))
                        .optional()?
                    {
                        out.push(if digest == r.digest {
                            TransactionOutcome::Repeat
                        } else {
                            TransactionOutcome::Conflict
                        });
                        continue;
                    }
                    insert.execute(params![
                        partner_seq,
                        r.id,
                        r.digest,
                        r.at.millis(),
                        r.payer,
                        r.payee,
                        r.payer_bank,
                        r.payee_bank,
                        r.amount_minor,
                        r.received_minor,
                        now
                    ])?;
                    out.push(TransactionOutcome::Stored);
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn transactions_after(&self, after: (i64, i64), limit: u32) -> Result<Vec<(i64, TransactionRow)>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, tx_id, digest, at, payer, payee, payer_bank, payee_bank, amount_minor, received_minor \
                 FROM mule_transactions WHERE at > ?1 OR (at = ?1 AND seq > ?2) ORDER BY at, seq LIMIT ?3",
            )?;
            let rows = stmt
                .query_map(params![after.0, after.1, i64::from(limit)], |r| {
                    Ok((
                        r.get(0)?,
                        TransactionRow {
                            id: r.get(1)?,
                            digest: r.get(2)?,
                            at: Timestamp::from_millis(r.get(3)?),
                            payer: r.get(4)?,
                            payee: r.get(5)?,
                            payer_bank: r.get(6)?,
                            payee_bank: r.get(7)?,
                            amount_minor: r.get(8)?,
                            received_minor: r.get(9)?,
                        },
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn store_flags(&self, flags: &[FlagWrite]) -> Result<Vec<i64>, StoreError> {
        let flags = flags.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut seqs = Vec::with_capacity(flags.len());
            {
                let mut flag = tx.prepare_cached(
                    "INSERT INTO mule_flags (raised_at, pattern, score, window_from, window_to, amount_minor, more_accounts) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let mut account = tx.prepare_cached(
                    "INSERT INTO mule_flag_accounts (flag_seq, position, account, bank, iban, centre) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for f in &flags {
                    flag.execute(params![
                        f.raised_at.millis(),
                        f.pattern,
                        f.score,
                        f.window_from.millis(),
                        f.window_to.millis(),
                        f.amount_minor,
                        f.more_accounts
                    ])?;
                    let seq = tx.last_insert_rowid();
                    for (i, a) in f.accounts.iter().enumerate() {
                        account.execute(params![seq, i as i64, a.account, a.bank, a.iban, i64::from(a.centre)])?;
                    }
                    seqs.push(seq);
                }
            }
            tx.commit()?;
            Ok(seqs)
        })
        .await
    }

    async fn flags_of_account(&self, account: i64, since: Timestamp, limit: u32) -> Result<Vec<FlagRow>, StoreError> {
        self.read(move |conn| {
            load_flags(
                conn,
                "WHERE raised_at >= ?1 AND seq IN (SELECT flag_seq FROM mule_flag_accounts WHERE account = ?2) \
                 ORDER BY seq DESC LIMIT ?3",
                vec![since.millis().into(), account.into(), i64::from(limit.min(MAX_FLAG_PAGE)).into()],
            )
        })
        .await
    }

    async fn flags_since(&self, since: Timestamp, after: i64, limit: u32) -> Result<Vec<FlagRow>, StoreError> {
        self.read(move |conn| {
            load_flags(
                conn,
                "WHERE raised_at >= ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                vec![since.millis().into(), after.into(), i64::from(limit).into()],
            )
        })
        .await
    }

    async fn mule_alerts(&self, scope: &AlertScope, before: Option<i64>, limit: u32) -> Result<Vec<FlagRow>, StoreError> {
        let scope = scope.clone();
        self.read(move |conn| {
            let mut values: Vec<Value> = vec![before.unwrap_or(i64::MAX).into(), i64::from(limit.min(MAX_FLAG_PAGE)).into()];
            let filter = match scope {
                AlertScope::All => "WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2".to_owned(),
                AlertScope::Banks(banks) if banks.is_empty() => return Ok(Vec::new()),
                AlertScope::Banks(banks) => {
                    let n = banks.len();
                    let (own, paid) = (marks(n, 3), marks(n, 3));
                    values.extend(banks.into_iter().map(Value::from));
                    format!(
                        "WHERE seq < ?1 AND seq IN (\
                           SELECT a.flag_seq FROM mule_flag_accounts a WHERE a.bank IN ({own}) \
                           UNION SELECT a.flag_seq FROM mule_flag_accounts a WHERE EXISTS (\
                             SELECT 1 FROM mule_transactions t WHERE t.payee = a.account AND t.payer_bank IN ({paid}))\
                         ) ORDER BY seq DESC LIMIT ?2"
                    )
                }
            };
            load_flags(conn, &filter, values)
        })
        .await
    }

    async fn paid_by_banks(&self, banks: &[String], accounts: &[i64]) -> Result<Vec<i64>, StoreError> {
        if banks.is_empty() || accounts.is_empty() {
            return Ok(Vec::new());
        }
        let (banks, accounts) = (banks.to_vec(), accounts.to_vec());
        self.read(move |conn| {
            let sql = format!(
                "SELECT DISTINCT payee FROM mule_transactions WHERE payee IN ({}) AND payer_bank IN ({})",
                marks(accounts.len(), 1),
                marks(banks.len(), accounts.len() + 1)
            );
            let values: Vec<Value> = accounts
                .into_iter()
                .map(Value::from)
                .chain(banks.into_iter().map(Value::from))
                .collect();
            let mut stmt = conn.prepare(&sql)?;
            let found = stmt
                .query_map(params_from_iter(values), |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(found)
        })
        .await
    }

    async fn prune_mules(&self, transactions_before: Timestamp, flags_before: Timestamp) -> Result<(u64, u64), StoreError> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let transactions = tx.execute("DELETE FROM mule_transactions WHERE at < ?1", [transactions_before.millis()])?;
            let flags = tx.execute("DELETE FROM mule_flags WHERE raised_at < ?1", [flags_before.millis()])?;
            tx.commit()?;
            Ok((transactions as u64, flags as u64))
        })
        .await
    }
}
