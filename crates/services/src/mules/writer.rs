//! The mule engine's writer: one task that owns the detectors. It takes transactions in
//! batches (several requests' batches share one database transaction), stores them, runs the
//! new ones through the detectors in time order, stores the flags they raise, and answers.
//! Between batches it refreshes the flag cache from the store (flags other nodes raised too)
//! and, hourly, deletes transactions and flags past their term.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use vangnet_core::Timestamp;
use vangnet_core::mules::graph::{AccountMap, evict};
use vangnet_core::mules::{Flag, Monitor, Pattern, Transfer};
use vangnet_store::{FlagAccount, FlagWrite, Store, StoreError, TransactionOutcome, TransactionRow};

use crate::clock::Clock;

use super::{FlagCache, MuleMetrics, MuleSettings, as_account, as_stored};

/// Transactions one database transaction takes at most.
const WRITE_BATCH: usize = 10_000;
/// How often flags raised elsewhere are read into the cache.
const REFRESH: Duration = Duration::from_secs(2);
/// How often old transactions and flags are deleted.
const PRUNE: Duration = Duration::from_secs(3_600);
/// Rows read per page when replaying the window at start.
const REPLAY_PAGE: u32 = 10_000;

/// What the writer knows of an account besides its pseudonym.
#[derive(Debug, Clone)]
pub(super) struct Name {
    pub bank: String,
    /// Kept only while the account is in the window, to put into a flag that names it.
    pub iban: Option<String>,
    pub seen: i64,
}

/// One transaction for the writer.
#[derive(Debug, Clone)]
pub(super) struct Incoming {
    pub row: TransactionRow,
    pub payer_iban: Option<String>,
    pub payee_iban: Option<String>,
}

/// A batch from one partner, answered when stored (`None`: nobody waits, as for payments).
pub(super) struct Job {
    pub partner_seq: i64,
    pub items: Vec<Incoming>,
    pub reply: Option<oneshot::Sender<Result<Vec<TransactionOutcome>, String>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("items", &self.items.len()).finish()
    }
}

pub(super) struct Writer {
    pub store: Arc<dyn Store>,
    pub settings: MuleSettings,
    pub clock: Arc<Clock>,
    pub monitor: Monitor,
    pub names: AccountMap<Name>,
    pub cache: Arc<FlagCache>,
    pub metrics: Arc<MuleMetrics>,
    /// The last stored flag per (centre, pattern), to raise a pattern again only when it grew.
    pub recent: HashMap<(u64, Pattern), (i64, f64)>,
    /// The newest flag sequence number read into the cache.
    pub flag_cursor: i64,
}

impl Writer {
    /// Replays the stored transactions of the last window through the detectors (raising no
    /// flags: those were stored when they were raised), then loads the flag cache.
    pub async fn warm_up(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let since = now.millis().saturating_sub(self.settings.thresholds.window_ms);
        let mut after = (since, 0i64);
        let mut replayed = 0u64;
        let mut scratch = Vec::new();
        loop {
            let page = self.store.transactions_after(after, REPLAY_PAGE).await?;
            let Some((seq, last)) = page.last() else { break };
            after = (last.at.millis(), *seq);
            for (_, row) in &page {
                self.remember(row, None, None);
                scratch.clear();
                self.monitor.observe(&transfer(row), &mut scratch);
                replayed += 1;
            }
            if page.len() < REPLAY_PAGE as usize {
                break;
            }
        }
        self.refresh(now).await?;
        Ok(replayed)
    }

    fn remember(&mut self, row: &TransactionRow, payer_iban: Option<&str>, payee_iban: Option<&str>) {
        let at = row.at.millis();
        for (key, bank, iban) in [(row.payer, &row.payer_bank, payer_iban), (row.payee, &row.payee_bank, payee_iban)] {
            let name = self.names.entry(as_account(key)).or_insert_with(|| Name {
                bank: bank.clone(),
                iban: None,
                seen: at,
            });
            name.seen = name.seen.max(at);
            if let Some(iban) = iban {
                name.iban = Some(iban.to_owned());
            }
        }
        let cap = self.settings.thresholds.max_accounts;
        if self.names.len() > cap {
            let cutoff = at.saturating_sub(self.settings.thresholds.window_ms);
            evict(&mut self.names, cutoff, cap, cap - cap / 10, |n| n.seen);
        }
    }

    /// Reads flags raised since the last refresh (here or on another node) into the cache.
    pub async fn refresh(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let since = now.plus_millis(-self.settings.score.max_age_ms);
        loop {
            let page = self.store.flags_since(since, self.flag_cursor, 1_000).await?;
            let Some(last) = page.last() else { break };
            self.flag_cursor = last.seq;
            self.cache.add(&page);
            if page.len() < 1_000 {
                break;
            }
        }
        Ok(())
    }

    /// Stores one round of jobs, runs the new transactions through the detectors, stores the
    /// flags, answers.
    async fn round(&mut self, jobs: Vec<Job>) {
        let mut answers: Vec<Result<Vec<TransactionOutcome>, String>> = Vec::with_capacity(jobs.len());
        let mut fresh: Vec<&Incoming> = Vec::new();
        for job in &jobs {
            let rows: Vec<TransactionRow> = job.items.iter().map(|i| i.row.clone()).collect();
            let mut attempt = self.store.store_transactions(job.partner_seq, &rows).await;
            if attempt.is_err() {
                // One retry after a short pause covers a busy database.
                tokio::time::sleep(Duration::from_millis(50)).await;
                attempt = self.store.store_transactions(job.partner_seq, &rows).await;
            }
            match attempt {
                Ok(outcomes) => {
                    for (item, outcome) in job.items.iter().zip(&outcomes) {
                        match outcome {
                            TransactionOutcome::Stored => fresh.push(item),
                            TransactionOutcome::Repeat => {
                                self.metrics.repeats.inc();
                            }
                            TransactionOutcome::Conflict => {
                                self.metrics.conflicts.inc();
                            }
                        }
                    }
                    answers.push(Ok(outcomes));
                }
                Err(e) => {
                    tracing::error!(error = %e, "transactions could not be stored");
                    answers.push(Err(e.to_string()));
                }
            }
        }
        fresh.sort_by_key(|i| i.row.at.millis());
        let mut flags: Vec<Flag> = Vec::new();
        let mut writes: Vec<FlagWrite> = Vec::new();
        let raised_at = self.clock.now();
        for item in fresh {
            self.remember(&item.row, item.payer_iban.as_deref(), item.payee_iban.as_deref());
            flags.clear();
            self.monitor.observe(&transfer(&item.row), &mut flags);
            self.metrics.observed.inc();
            for f in &flags {
                if self.is_new(f) {
                    writes.push(self.flag_write(f, raised_at));
                }
            }
        }
        if !writes.is_empty() {
            match self.store.store_flags(&writes).await {
                Ok(_) => {
                    for w in &writes {
                        if let Some(i) = Pattern::ALL.iter().position(|p| p.as_str() == w.pattern) {
                            self.metrics.flags[i].inc();
                        }
                    }
                }
                // The transactions are stored; the flags of this round are lost, and the
                // patterns will be raised again by the next transfer that continues them.
                Err(e) => tracing::error!(error = %e, flags = writes.len(), "mule flags could not be stored"),
            }
            if let Err(e) = self.refresh(raised_at).await {
                tracing::warn!(error = %e, "the mule flag cache could not be refreshed");
            }
        }
        for (job, answer) in jobs.into_iter().zip(answers) {
            if let Some(reply) = job.reply {
                let _ = reply.send(answer);
            }
        }
    }

    /// Whether a flag adds something: its pattern was not raised for its centre within the
    /// span, or it now scores higher by 0.1 or more.
    fn is_new(&mut self, f: &Flag) -> bool {
        let key = (f.centre(), f.pattern);
        let span = self.settings.thresholds.span_ms.max(self.settings.thresholds.cycle_ms);
        if let Some(&(at, score)) = self.recent.get(&key)
            && f.to.saturating_sub(at) < span
            && f.score < score + 0.1
        {
            return false;
        }
        if self.recent.len() >= self.settings.thresholds.max_accounts {
            let cutoff = f.to.saturating_sub(span);
            self.recent.retain(|_, (at, _)| *at >= cutoff);
        }
        self.recent.insert(key, (f.to, f.score));
        true
    }

    fn flag_write(&self, f: &Flag, raised_at: Timestamp) -> FlagWrite {
        FlagWrite {
            raised_at,
            pattern: f.pattern.as_str().to_owned(),
            score: (f.score * 10_000.0).round() / 10_000.0,
            window_from: Timestamp::from_millis(f.from),
            window_to: Timestamp::from_millis(f.to),
            amount_minor: f.amount,
            more_accounts: i64::try_from(f.more_accounts).unwrap_or(i64::MAX),
            accounts: f
                .accounts
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    let name = self.names.get(&a);
                    FlagAccount {
                        account: as_stored(a),
                        bank: name.map(|n| n.bank.clone()).unwrap_or_default(),
                        iban: name.and_then(|n| n.iban.clone()),
                        centre: i == 0,
                    }
                })
                .collect(),
        }
    }

    /// Runs until every sender is gone and the queue is written.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut last_refresh = Instant::now();
        let mut last_prune: Option<Instant> = None;
        loop {
            let first = tokio::select! {
                job = rx.recv() => match job {
                    Some(job) => Some(job),
                    None => break,
                },
                () = tokio::time::sleep(REFRESH) => None,
            };
            if let Some(first) = first {
                let mut size = first.items.len();
                let mut jobs = vec![first];
                while size < WRITE_BATCH {
                    match rx.try_recv() {
                        Ok(job) => {
                            size += job.items.len();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
                self.round(jobs).await;
            }
            let now = self.clock.now();
            if last_refresh.elapsed() >= REFRESH {
                last_refresh = Instant::now();
                if let Err(e) = self.refresh(now).await {
                    tracing::warn!(error = %e, "the mule flag cache could not be refreshed");
                }
                self.cache.expire(now.millis() - self.settings.score.max_age_ms);
                self.metrics
                    .accounts
                    .set(i64::try_from(self.monitor.detector().window().accounts()).unwrap_or(i64::MAX));
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE) {
                last_prune = Some(Instant::now());
                let day = 86_400_000i64;
                let transactions_before = now.plus_millis(-i64::from(self.settings.transaction_days) * day);
                let flags_before = now.plus_millis(-i64::from(self.settings.flag_days) * day);
                match self.store.prune_mules(transactions_before, flags_before).await {
                    Ok((0, 0)) => {}
                    Ok((transactions, flags)) => tracing::info!(transactions, flags, "old transactions and mule flags deleted"),
                    Err(e) => tracing::warn!(error = %e, "old transactions and mule flags could not be deleted"),
                }
            }
        }
    }
}

fn transfer(row: &TransactionRow) -> Transfer {
    Transfer {
        at: row.at.millis(),
        from: as_account(row.payer),
        to: as_account(row.payee),
        amount: row.amount_minor,
        received: row.received_minor,
    }
}
