//! Transactions and mule flags on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vangnet_core::Timestamp;

use super::{PostgresStore, sql};
use crate::StoreError;
use crate::mules::{AlertScope, FlagAccount, FlagRow, FlagWrite, MAX_FLAG_PAGE, MuleStore, TransactionOutcome, TransactionRow};

const FLAG_SELECT: &str = "SELECT seq, raised_at, pattern, score, window_from, window_to, amount_minor, more_accounts FROM mule_flags";

fn flag_row(r: &PgRow) -> Result<FlagRow, sqlx::Error> {
    Ok(FlagRow {
        seq: r.try_get(0)?,
        flag: FlagWrite {
            raised_at: Timestamp::from_millis(r.try_get(1)?),
            pattern: r.try_get(2)?,
            score: r.try_get(3)?,
            window_from: Timestamp::from_millis(r.try_get(4)?),
            window_to: Timestamp::from_millis(r.try_get(5)?),
            amount_minor: r.try_get(6)?,
            more_accounts: r.try_get(7)?,
            accounts: Vec::new(),
        },
    })
}

impl PostgresStore {
    /// Adds their accounts to flags just read.
    async fn with_accounts(&self, rows: Vec<PgRow>) -> Result<Vec<FlagRow>, StoreError> {
        let mut flags = rows.iter().map(flag_row).collect::<Result<Vec<_>, _>>()?;
        if flags.is_empty() {
            return Ok(flags);
        }
        let seqs: Vec<i64> = flags.iter().map(|f| f.seq).collect();
        let accounts = sqlx::query(
            "SELECT flag_seq, account, bank, iban, centre FROM mule_flag_accounts WHERE flag_seq = ANY($1) ORDER BY flag_seq, position",
        )
        .bind(&seqs)
        .fetch_all(&self.pool)
        .await?;
        for r in &accounts {
            let seq: i64 = r.try_get(0)?;
            if let Some(f) = flags.iter_mut().find(|f| f.seq == seq) {
                f.flag.accounts.push(FlagAccount {
                    account: r.try_get(1)?,
                    bank: r.try_get(2)?,
                    iban: r.try_get(3)?,
                    centre: r.try_get(4)?,
                });
            }
        }
        Ok(flags)
    }
}

#[async_trait]
impl MuleStore for PostgresStore {
    async fn store_transactions(&self, partner_seq: i64, rows: &[TransactionRow]) -> Result<Vec<TransactionOutcome>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = Timestamp::now().millis();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let inserted = sqlx::query(
                "INSERT INTO mule_transactions (partner_seq, tx_id, digest, at, payer, payee, payer_bank, payee_bank, \
                 amount_minor, received_minor, stored_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (partner_seq, tx_id) DO NOTHING",
            )
            .bind(partner_seq)
            .bind(&r.id)
            .bind(&r.digest)
            .bind(r.at.millis())
            .bind(r.payer)
            .bind(r.payee)
            .bind(&r.payer_bank)
            .bind(&r.payee_bank)
            .bind(r.amount_minor)
            .bind(r.received_minor)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                out.push(TransactionOutcome::Stored);
                continue;
            }
            let digest: String = sqlx::query_scalar("SELECT digest FROM mule_transactions WHERE partner_seq = $1 AND tx_id = $2")
                .bind(partner_seq)
                .bind(&r.id)
                .fetch_one(&mut *tx)
                .await?;
            out.push(if digest == r.digest {
                TransactionOutcome::Repeat
            } else {
                TransactionOutcome::Conflict
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn transactions_after(&self, after: (i64, i64), limit: u32) -> Result<Vec<(i64, TransactionRow)>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, tx_id, digest, at, payer, payee, payer_bank, payee_bank, amount_minor, received_minor \
             FROM mule_transactions WHERE (at, seq) > ($1, $2) ORDER BY at, seq LIMIT $3",
        )
        .bind(after.0)
        .bind(after.1)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    TransactionRow {
                        id: r.try_get(1)?,
                        digest: r.try_get(2)?,
                        at: Timestamp::from_millis(r.try_get(3)?),
                        payer: r.try_get(4)?,
                        payee: r.try_get(5)?,
                        payer_bank: r.try_get(6)?,
                        payee_bank: r.try_get(7)?,
                        amount_minor: r.try_get(8)?,
                        received_minor: r.try_get(9)?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn store_flags(&self, flags: &[FlagWrite]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut seqs = Vec::with_capacity(flags.len());
        for f in flags {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO mule_flags (raised_at, pattern, score, window_from, window_to, amount_minor, more_accounts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            )
            .bind(f.raised_at.millis())
            .bind(&f.pattern)
            .bind(f.score)
            .bind(f.window_from.millis())
            .bind(f.window_to.millis())
            .bind(f.amount_minor)
            .bind(f.more_accounts)
            .fetch_one(&mut *tx)
            .await?;
            for (i, a) in f.accounts.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO mule_flag_accounts (flag_seq, position, account, bank, iban, centre) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(seq)
                .bind(i as i64)
                .bind(a.account)
                .bind(&a.bank)
                .bind(&a.iban)
                .bind(a.centre)
                .execute(&mut *tx)
                .await?;
            }
            seqs.push(seq);
        }
        tx.commit().await?;
        Ok(seqs)
    }

    async fn flags_of_account(&self, account: i64, since: Timestamp, limit: u32) -> Result<Vec<FlagRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "{FLAG_SELECT} WHERE raised_at >= $1 AND seq IN (SELECT flag_seq FROM mule_flag_accounts WHERE account = $2) \
             ORDER BY seq DESC LIMIT $3"
        )))
        .bind(since.millis())
        .bind(account)
        .bind(i64::from(limit.min(MAX_FLAG_PAGE)))
        .fetch_all(&self.pool)
        .await?;
        self.with_accounts(rows).await
    }

    async fn flags_since(&self, since: Timestamp, after: i64, limit: u32) -> Result<Vec<FlagRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "{FLAG_SELECT} WHERE raised_at >= $1 AND seq > $2 ORDER BY seq LIMIT $3"
        )))
        .bind(since.millis())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_accounts(rows).await
    }

    async fn mule_alerts(&self, scope: &AlertScope, before: Option<i64>, limit: u32) -> Result<Vec<FlagRow>, StoreError> {
        let before = before.unwrap_or(i64::MAX);
        let limit = i64::from(limit.min(MAX_FLAG_PAGE));
        let rows = match scope {
            AlertScope::All => {
                sqlx::query(sql(format!("{FLAG_SELECT} WHERE seq < $1 ORDER BY seq DESC LIMIT $2")))
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            AlertScope::Banks(banks) if banks.is_empty() => return Ok(Vec::new()),
            AlertScope::Banks(banks) => {
                sqlx::query(sql(format!(
                    "{FLAG_SELECT} WHERE seq < $1 AND seq IN (\
                       SELECT a.flag_seq FROM mule_flag_accounts a WHERE a.bank = ANY($3) \
                       UNION SELECT a.flag_seq FROM mule_flag_accounts a WHERE EXISTS (\
                         SELECT 1 FROM mule_transactions t WHERE t.payee = a.account AND t.payer_bank = ANY($3))\
                     ) ORDER BY seq DESC LIMIT $2"
                )))
                .bind(before)
                .bind(limit)
                .bind(banks)
                .fetch_all(&self.pool)
                .await?
            }
        };
        self.with_accounts(rows).await
    }

    async fn paid_by_banks(&self, banks: &[String], accounts: &[i64]) -> Result<Vec<i64>, StoreError> {
        if banks.is_empty() || accounts.is_empty() {
            return Ok(Vec::new());
        }
        Ok(
            sqlx::query_scalar("SELECT DISTINCT payee FROM mule_transactions WHERE payee = ANY($1) AND payer_bank = ANY($2)")
                .bind(accounts)
                .bind(banks)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn prune_mules(&self, transactions_before: Timestamp, flags_before: Timestamp) -> Result<(u64, u64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let transactions = sqlx::query("DELETE FROM mule_transactions WHERE at < $1")
            .bind(transactions_before.millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let flags = sqlx::query("DELETE FROM mule_flags WHERE raised_at < $1")
            .bind(flags_before.millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((transactions, flags))
    }
}
