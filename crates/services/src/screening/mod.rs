//! Payment screening: turns a validated payment into core facts (registry
//! signal, keyed account pseudonyms), decides under the current rules, and persists the
//! decision together with the state it changed before answering (group commit: concurrent
//! requests share one transaction), so a restart loses nothing that was acknowledged.

pub mod call_lists;
pub mod calls;
pub mod rules_file;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use vangnet_core::index::CheckStatus;
use vangnet_core::indicator::{Iban, Indicator};
use vangnet_core::screening::payments::{
    AccountActivity, MuleSignal, NameCheck, PayerProfile, PaymentFacts, RegistrySignal, ScreeningState, Verdict,
};
use vangnet_core::{Money, Timestamp};
use vangnet_store::{DecisionOutcome, DecisionWrite, Partner, PaymentDecisionRow, StateBlob, Store, StoreError};

pub use rules_file::RulesHandle;

use crate::registry::Registry;
use crate::screening::calls::CallScreening;

/// Decisions waiting for the writer; more wait for room.
const WRITE_QUEUE: usize = 10_000;
/// The most decisions one transaction takes.
const WRITE_BATCH: usize = 512;

/// A payment as the API accepted it.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub id: String,
    pub payer: Iban,
    pub payee: Iban,
    pub amount: Money,
    pub instant: bool,
    pub initiated_at: Timestamp,
    pub name_check: NameCheck,
    pub subscriber_ref: Option<String>,
}

impl PaymentInput {
    /// A digest of everything that decides the outcome, to tell a repeat from a different
    /// payment under the same id.
    pub fn digest(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{:?}\n{}",
            self.id,
            self.payer.as_str(),
            self.payee.as_str(),
            self.amount.minor(),
            self.instant,
            self.initiated_at.millis(),
            self.name_check,
            self.subscriber_ref.as_deref().unwrap_or("")
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// A decision as answered (fresh or stored before).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionOut {
    pub id: String,
    pub decision: String,
    pub score: f64,
    /// (code, message) pairs, strongest first.
    pub reasons: Vec<(String, String)>,
    pub rules_version: String,
    pub decided_at: Timestamp,
}

impl DecisionOut {
    /// The answer form of a stored decision.
    pub fn from_row(row: &PaymentDecisionRow) -> DecisionOut {
        let reasons: Vec<serde_json::Value> = serde_json::from_str(&row.reasons).unwrap_or_default();
        DecisionOut {
            id: row.payment_id.clone(),
            decision: row.decision.clone(),
            score: row.score,
            reasons: reasons
                .iter()
                .map(|r| {
                    (
                        r["code"].as_str().unwrap_or_default().to_owned(),
                        r["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            rules_version: row.rules_version.clone(),
            decided_at: row.decided_at,
        }
    }
}

/// Why a payment could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum ScreeningError {
    #[error("this payment id was used before for a different payment")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the decision writer has stopped")]
    Stopped,
}

/// A payment for the decider: everything known before the rules run.
struct DecideJob {
    partner_seq: i64,
    id: String,
    digest: String,
    facts: PaymentFacts,
    now: Timestamp,
    /// The decision that answers: made now, or stored before under this id.
    reply: oneshot::Sender<Result<PaymentDecisionRow, String>>,
}

/// The screening engine of one server.
#[derive(Debug)]
pub struct Screening {
    pub rules: RulesHandle,
    writer: mpsc::Sender<DecideJob>,
}

impl std::fmt::Debug for DecideJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecideJob")
    }
}

impl Screening {
    /// Starts the decision writer; loads the persisted state (up to `max_entries` of each kind).
    pub async fn start(
        store: Arc<dyn Store>,
        rules: RulesHandle,
        max_entries: usize,
    ) -> Result<(Screening, tokio::task::JoinHandle<()>), StoreError> {
        let mut state = ScreeningState::new(max_entries);
        let limit = u32::try_from(max_entries).unwrap_or(u32::MAX);
        let (payers, accounts) = store.screening_state(limit).await?;
        for blob in payers {
            if let (Some(key), Some(profile)) = (parse_key(&blob.key), PayerProfile::from_bytes(&blob.state)) {
                state.payers.insert(key, profile);
            }
        }
        for blob in accounts {
            if let (Some(key), Some(activity)) = (parse_key(&blob.key), AccountActivity::from_bytes(&blob.state)) {
                state.accounts.insert(key, activity);
            }
        }
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let task = tokio::spawn(decide_and_write(store, rules.clone(), state, rx));
        Ok((Screening { rules, writer: tx }, task))
    }

    /// Decides one payment for `partner`, or returns the decision stored for its id before.
    /// `keys` are the pseudonyms of payer and payee ([`AccountKeyer`]); `mule_signal` gives
    /// the mule engine's signal from the payee's mule reports as the bank may see them.
    pub async fn decide(
        &self,
        registry: &Registry,
        calls: &CallScreening,
        partner: &Partner,
        input: &PaymentInput,
        (payer, payee_key): (u64, u64),
        mule_signal: impl FnOnce(u32) -> MuleSignal,
    ) -> Result<DecisionOut, ScreeningError> {
        let digest = input.digest();
        let now = registry.now();
        let payee = Indicator::Iban(input.payee.clone());
        let view = registry.view(&payee, &partner.viewer(), now);
        if view.status != CheckStatus::NotReported {
            registry
                .audit()
                .record_hit(partner.actor(), registry.pseudonym(payee.kind(), payee.canonical()), "payment", now)
                .await;
        }
        let facts = PaymentFacts {
            payer,
            payee: payee_key,
            amount_minor: input.amount.minor(),
            instant: input.instant,
            at: input.initiated_at,
            name_check: input.name_check,
            registry: RegistrySignal {
                status: view.status,
                score: view.score,
                reports: view.reports,
            },
            on_call: input.subscriber_ref.as_deref().map(|r| calls.on_call(r, now)),
            mules: mule_signal(view.mule_reports),
        };
        let (reply, answer) = oneshot::channel();
        let job = DecideJob {
            partner_seq: partner.seq,
            id: input.id.clone(),
            digest: digest.clone(),
            facts,
            now,
            reply,
        };
        self.writer.send(job).await.map_err(|_| ScreeningError::Stopped)?;
        match answer.await.map_err(|_| ScreeningError::Stopped)? {
            Ok(row) if row.request_digest == digest => Ok(DecisionOut::from_row(&row)),
            Ok(_) => Err(ScreeningError::Conflict),
            Err(message) => Err(ScreeningError::Store(StoreError::Database(message))),
        }
    }
}

fn row(id: &str, digest: &str, verdict: &Verdict, version: &str, now: Timestamp) -> PaymentDecisionRow {
    let reasons: Vec<serde_json::Value> = verdict
        .reasons
        .iter()
        .map(|r| serde_json::json!({"code": r.code, "message": r.message}))
        .collect();
    PaymentDecisionRow {
        payment_id: id.to_owned(),
        request_digest: digest.to_owned(),
        decided_at: now,
        decision: verdict.decision.as_str().to_owned(),
        score: (verdict.score * 10_000.0).round() / 10_000.0,
        reasons: serde_json::Value::Array(reasons).to_string(),
        rules_version: version.to_owned(),
    }
}

/// Keyed pseudonyms of accounts: the first 64 bits of HMAC-SHA-256(key, "account" 0x00 IBAN),
/// the same whether the account pays or is paid. The keyed state is prepared once, so each
/// pseudonym costs two SHA-256 blocks.
#[derive(Clone)]
pub struct AccountKeyer {
    mac: hmac::Hmac<Sha256>,
}

impl std::fmt::Debug for AccountKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountKeyer")
    }
}

impl AccountKeyer {
    pub fn new(key: &[u8]) -> AccountKeyer {
        use hmac::{KeyInit, Mac};
        // HMAC accepts keys of any length.
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(b"account\0");
        AccountKeyer { mac }
    }

    pub fn key(&self, iban: &str) -> u64 {
        use hmac::Mac;
        let mut mac = self.mac.clone();
        mac.update(iban.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_be_bytes(first)
    }
}

fn key_text(key: u64) -> String {
    format!("{key:016x}")
}

fn parse_key(text: &str) -> Option<u64> {
    u64::from_str_radix(text, 16).ok()
}

/// Decides and writes in batches: whatever is waiting is looked up in one query per partner
/// (a payment id decided before returns its stored decision and changes no state), decided in
/// arrival order under the current rules, and written, with the state it changed, in one
/// transaction before anyone gets an answer.
async fn decide_and_write(store: Arc<dyn Store>, rules: RulesHandle, mut state: ScreeningState, mut rx: mpsc::Receiver<DecideJob>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut by_partner: HashMap<i64, Vec<String>> = HashMap::new();
        for job in &jobs {
            by_partner.entry(job.partner_seq).or_default().push(job.id.clone());
        }
        let mut known: HashMap<(i64, String), PaymentDecisionRow> = HashMap::new();
        let mut failed = None;
        for (partner, ids) in by_partner {
            match store.payment_decisions(partner, &ids).await {
                Ok(rows) => known.extend(rows.into_iter().map(|r| ((partner, r.payment_id.clone()), r))),
                Err(e) => failed = Some(e.to_string()),
            }
        }
        if let Some(message) = failed {
            tracing::error!(error = %message, "earlier payment decisions could not be read");
            for job in jobs {
                let _ = job.reply.send(Err(message.clone()));
            }
            continue;
        }
        let rules_now = rules.current();
        // Per job: the stored decision it repeats, or the write it makes.
        let mut plan: Vec<Result<PaymentDecisionRow, usize>> = Vec::with_capacity(jobs.len());
        let mut writes: Vec<DecisionWrite> = Vec::new();
        let mut fresh: HashMap<(i64, String), usize> = HashMap::new();
        for job in &jobs {
            let key = (job.partner_seq, job.id.clone());
            if let Some(row) = known.get(&key) {
                plan.push(Ok(row.clone()));
                continue;
            }
            if let Some(&w) = fresh.get(&key) {
                // The same id twice in one batch: the second repeats the first.
                plan.push(Err(w));
                continue;
            }
            let verdict = state.evaluate(&rules_now, &job.facts);
            state.record(&job.facts, verdict.decision);
            let (payer_key, payee_key) = (job.facts.payer, job.facts.payee);
            let payer = state.payers.get(&payer_key).map(|p| StateBlob {
                key: key_text(payer_key),
                state: p.to_bytes(),
            });
            let accounts = [payer_key, payee_key]
                .iter()
                .filter_map(|k| {
                    state.accounts.get(k).map(|a| StateBlob {
                        key: key_text(*k),
                        state: a.to_bytes(),
                    })
                })
                .collect();
            fresh.insert(key, writes.len());
            plan.push(Err(writes.len()));
            writes.push(DecisionWrite {
                partner_seq: job.partner_seq,
                decision: row(&job.id, &job.digest, &verdict, &rules_now.version, job.now),
                payer,
                accounts,
            });
        }
        let mut attempt = store.store_decisions(&writes).await;
        if attempt.is_err() {
            // One retry after a short pause covers a busy database; after that the requests fail.
            tokio::time::sleep(Duration::from_millis(50)).await;
            attempt = store.store_decisions(&writes).await;
        }
        match attempt {
            Ok(outcomes) => {
                for (job, step) in jobs.into_iter().zip(plan) {
                    let answer = match step {
                        Ok(row) => row,
                        Err(w) => match outcomes.get(w) {
                            // Stored by another node between the look-up and the write.
                            Some(DecisionOutcome::Existing(row)) => row.clone(),
                            Some(DecisionOutcome::Stored) | None => writes[w].decision.clone(),
                        },
                    };
                    let _ = job.reply.send(Ok(answer));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "payment decisions could not be stored");
                for job in jobs {
                    let _ = job.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
