//! Money-mule detection in the server: transactions in (the partner API, the stream, every
//! scored payment), the detectors of [`vangnet_core::mules`] over them, the flags stored, a
//! mule score per account for the payment rules, and the reads: one account's flags and
//! score, and a bank's alerts.
//!
//! Privacy: the detectors see keyed pseudonyms of the accounts (the same as payment
//! screening's); a transaction is stored without IBANs; an IBAN is kept only in a flag that
//! names the account. Who sees what: the police every flag and IBAN; a bank or payment service
//! provider the flags that name an account it holds (its bank codes in the PNBF directory) or
//! an account its customers paid, with the IBANs of those accounts only. Every read is
//! audited.
//!
//! Bounds: at most [`MAX_BATCH`] transactions per request; the detectors' window and memory
//! as [`vangnet_core::mules::Thresholds`] documents; the flag cache at most
//! `thresholds.max_accounts` accounts with [`FLAGS_PER_ACCOUNT`] flags each.

mod writer;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use vangnet_core::indicator::Iban;
use vangnet_core::mules::graph::AccountMap;
use vangnet_core::mules::{AccountFlag, Monitor, MuleScore, Pattern};
use vangnet_core::screening::payments::MuleSignal;
use vangnet_core::{Money, Timestamp};
use vangnet_store::{FlagRow, Partner, Store, StoreError, TransactionOutcome, TransactionRow};

use crate::clock::Clock;
pub use crate::metrics::MuleMetrics;
use crate::screening::AccountKeyer;
pub use crate::settings::MuleSettings;
use writer::{Incoming, Job, Writer};

/// The most transactions one request or stream message carries.
pub const MAX_BATCH: usize = 10_000;
/// Flags kept per account in the cache (the newest).
pub const FLAGS_PER_ACCOUNT: usize = 16;
/// The most flags one alerts page lists.
pub const MAX_ALERTS_PAGE: u32 = 100;
/// Batches waiting for the writer; payments beyond this are not taken into the graph (and
/// counted in `vangnet_mule_transactions_total{outcome="dropped"}`).
const QUEUE: usize = 1_024;

/// Flags per account, for the payment rules: what the store holds from the last
/// `score.max_age_ms`, read by every node.
#[derive(Debug)]
pub struct FlagCache {
    flags: RwLock<AccountMap<Vec<AccountFlag>>>,
    max_accounts: usize,
}

impl FlagCache {
    fn new(max_accounts: usize) -> FlagCache {
        FlagCache {
            flags: RwLock::new(AccountMap::default()),
            max_accounts: max_accounts.max(16),
        }
    }

    fn add(&self, rows: &[FlagRow]) {
        let mut map = self.flags.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for row in rows {
            let Some(pattern) = Pattern::from_key(&row.flag.pattern) else {
                continue;
            };
            for a in &row.flag.accounts {
                let flag = AccountFlag {
                    pattern,
                    score: row.flag.score,
                    at: row.flag.window_to.millis(),
                    centre: a.centre,
                };
                let list = map.entry(as_account(a.account)).or_default();
                if list.len() >= FLAGS_PER_ACCOUNT {
                    list.remove(0);
                }
                list.push(flag);
            }
        }
        if map.len() > self.max_accounts {
            // The oldest go first (their flags fade out of the score anyway).
            let cap = self.max_accounts;
            vangnet_core::mules::graph::evict(&mut map, i64::MIN, cap, cap - cap / 10, |l| l.last().map_or(i64::MIN, |f| f.at));
        }
    }

    fn expire(&self, cutoff: i64) {
        let mut map = self.flags.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, list| {
            list.retain(|f| f.at >= cutoff);
            !list.is_empty()
        });
    }

    fn get(&self, account: u64) -> Vec<AccountFlag> {
        let map = self.flags.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&account).cloned().unwrap_or_default()
    }
}

/// One transaction as an adapter accepted it.
#[derive(Debug, Clone)]
pub struct TransactionInput {
    pub id: String,
    pub payer: Iban,
    pub payee: Iban,
    /// What the payer paid.
    pub amount: Money,
    /// What the payee received (the same unless the transfer changed currency).
    pub received: Money,
    pub at: Timestamp,
}

/// Why transactions were not taken.
#[derive(Debug, thiserror::Error)]
pub enum MuleError {
    #[error("{0}")]
    Forbidden(String),
    #[error("the transactions could not be stored: {0}")]
    Store(String),
    #[error("the mule engine has stopped")]
    Stopped,
    #[error("no mule information about this account that you may see")]
    NotVisible,
}

impl From<StoreError> for MuleError {
    fn from(e: StoreError) -> Self {
        MuleError::Store(e.to_string())
    }
}

/// The mule engine of one server.
#[derive(Debug)]
pub struct Mules {
    keyer: AccountKeyer,
    tx: mpsc::Sender<Job>,
    cache: Arc<FlagCache>,
    settings: MuleSettings,
    metrics: Arc<MuleMetrics>,
}

/// The stored form of a pseudonym: the signed integer with the same 64 bits.
pub(crate) fn as_stored(account: u64) -> i64 {
    i64::from_ne_bytes(account.to_ne_bytes())
}

pub(crate) fn as_account(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

/// The Dutch bank code of an IBAN (empty for other countries: the PNBF directory is Dutch).
pub(crate) fn bank_of(iban: &Iban) -> String {
    match (iban.country(), iban.bank_code()) {
        ("NL", Some(code)) => code.to_owned(),
        _ => String::new(),
    }
}

impl Mules {
    /// Starts the writer after replaying the stored window and loading the flag cache.
    pub async fn start(
        store: Arc<dyn Store>,
        settings: MuleSettings,
        key: &[u8],
        clock: Arc<Clock>,
        metrics: MuleMetrics,
    ) -> Result<(Mules, JoinHandle<()>), StoreError> {
        let metrics = Arc::new(metrics);
        let cache = Arc::new(FlagCache::new(settings.thresholds.max_accounts));
        let mut writer = Writer {
            store,
            settings: settings.clone(),
            monitor: Monitor::new(settings.thresholds.clone()),
            names: AccountMap::default(),
            cache: Arc::clone(&cache),
            metrics: Arc::clone(&metrics),
            recent: HashMap::new(),
            flag_cursor: 0,
            clock: Arc::clone(&clock),
        };
        let started = std::time::Instant::now();
        let replayed = writer.warm_up(clock.now()).await?;
        tracing::info!(replayed, seconds = started.elapsed().as_secs_f64(), "mule detectors warmed up");
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(writer.run(rx));
        Ok((
            Mules {
                keyer: AccountKeyer::new(key),
                tx,
                cache,
                settings,
                metrics,
            },
            task,
        ))
    }

    pub fn settings(&self) -> &MuleSettings {
        &self.settings
    }

    /// The pseudonyms of accounts (the same as payment screening's).
    pub(crate) fn keyer(&self) -> &AccountKeyer {
        &self.keyer
    }

    /// The pseudonyms of a transfer's two accounts (payer, payee), computed once per payment
    /// for payment screening and the mule engine alike.
    pub fn keys(&self, payer: &Iban, payee: &Iban) -> (u64, u64) {
        (self.keyer.key(payer.as_str()), self.keyer.key(payee.as_str()))
    }

    fn row(&self, t: &TransactionInput, (payer, payee): (u64, u64)) -> TransactionRow {
        let text = format!(
            "{}\n{payer:016x}\n{payee:016x}\n{}\n{}\n{}\n{}\n{}",
            t.id,
            t.amount.minor(),
            t.amount.currency().code(),
            t.received.minor(),
            t.received.currency().code(),
            t.at.millis()
        );
        TransactionRow {
            id: t.id.clone(),
            digest: hex::encode(Sha256::digest(text.as_bytes())),
            at: t.at,
            payer: as_stored(payer),
            payee: as_stored(payee),
            payer_bank: bank_of(&t.payer),
            payee_bank: bank_of(&t.payee),
            amount_minor: t.amount.minor(),
            received_minor: t.received.minor(),
        }
    }

    fn incoming(&self, t: &TransactionInput, keys: (u64, u64)) -> Incoming {
        Incoming {
            row: self.row(t, keys),
            payer_iban: Some(t.payer.as_str().to_owned()),
            payee_iban: Some(t.payee.as_str().to_owned()),
        }
    }

    /// Takes a partner's transactions (at most [`MAX_BATCH`]; the adapter checks) into the
    /// graph; answers once they are stored, with one outcome per transaction in order.
    pub async fn ingest(&self, partner: &Partner, batch: &[TransactionInput]) -> Result<Vec<TransactionOutcome>, MuleError> {
        if !partner.kind.holds_accounts() {
            return Err(MuleError::Forbidden(
                "only banks and payment service providers send transactions".to_owned(),
            ));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            partner_seq: partner.seq,
            items: batch.iter().map(|t| self.incoming(t, self.keys(&t.payer, &t.payee))).collect(),
            reply: Some(reply),
        };
        self.tx.send(job).await.map_err(|_| MuleError::Stopped)?;
        answer.await.map_err(|_| MuleError::Stopped)?.map_err(MuleError::Store)
    }

    /// Takes a scored payment, with its accounts' pseudonyms from [`Mules::keys`], into the
    /// graph without waiting (a full queue drops it and counts it: payment screening never
    /// waits on the mule engine).
    pub fn observe_payment(&self, partner: &Partner, t: &TransactionInput, keys: (u64, u64)) {
        let job = Job {
            partner_seq: partner.seq,
            items: vec![self.incoming(t, keys)],
            reply: None,
        };
        if self.tx.try_send(job).is_err() {
            self.metrics.dropped.inc();
        }
    }

    /// The score of one account (by its pseudonym) from the flags every node raised and the
    /// partners' mule reports the reader may see.
    pub fn score_of(&self, account: u64, mule_reports: u32, now: Timestamp) -> MuleScore {
        self.settings.score.score(&self.cache.get(account), mule_reports, now.millis())
    }

    /// What the payment rules learn about a payment's two accounts (by their pseudonyms).
    pub fn signal(&self, (payer, payee): (u64, u64), payee_reports: u32, now: Timestamp) -> MuleSignal {
        let top = |s: &MuleScore| {
            s.reasons.iter().find_map(|r| match r {
                vangnet_core::mules::ScoreReason::Pattern { pattern, .. } => Some(*pattern),
                vangnet_core::mules::ScoreReason::Reports { .. } => None,
            })
        };
        let payee_score = self.score_of(payee, payee_reports, now);
        let payer_score = self.score_of(payer, 0, now);
        MuleSignal {
            payee_score: payee_score.score,
            payee_pattern: top(&payee_score),
            payee_reports,
            payer_score: payer_score.score,
            payer_pattern: top(&payer_score),
        }
    }
}
