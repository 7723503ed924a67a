//! Payment screening in the server: turns a validated payment into core facts (registry
//! signal, keyed account pseudonyms), decides under the current rules, and persists the
//! decision together with the state it changed before answering (group commit: concurrent
//! requests share one transaction), so a restart loses nothing that was acknowledged.

pub mod calls;
pub mod iso20022;
pub mod rules_file;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::CheckStatus;
use vangnet_core::indicator::{Iban, Indicator};
use vangnet_core::screening::payments::{AccountActivity, NameCheck, PayerProfile, PaymentFacts, RegistrySignal, ScreeningState, Verdict};
use vangnet_core::{Money, Timestamp};
use vangnet_store::{DecisionOutcome, DecisionWrite, Partner, PaymentDecisionRow, StateBlob, Store, StoreError};

pub use rules_file::RulesHandle;

use crate::state::AppState;

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
    fn from_row(row: &PaymentDecisionRow) -> DecisionOut {
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

struct WriteJob {
    write: DecisionWrite,
    reply: oneshot::Sender<Result<DecisionOutcome, String>>,
}

/// The screening engine of one server.
#[derive(Debug)]
pub struct Screening {
    pub rules: RulesHandle,
    keyer: AccountKeyer,
    state: Mutex<ScreeningState>,
    writer: mpsc::Sender<WriteJob>,
}

impl std::fmt::Debug for WriteJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteJob")
    }
}

impl Screening {
    /// Starts the decision writer; loads the persisted state (up to `max_entries` of each kind).
    pub async fn start(
        store: Arc<dyn Store>,
        rules: RulesHandle,
        key: &[u8],
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
        let task = tokio::spawn(write_decisions(store, rx));
        Ok((
            Screening {
                rules,
                keyer: AccountKeyer::new(key),
                state: Mutex::new(state),
                writer: tx,
            },
            task,
        ))
    }

    /// Decides one payment for `partner`, or returns the decision stored for its id before.
    pub async fn decide(&self, app: &AppState, partner: &Partner, input: &PaymentInput) -> Result<DecisionOut, ScreeningError> {
        let digest = input.digest();
        if let Some(row) = app.store.payment_decision(partner.seq, &input.id).await? {
            return if row.request_digest == digest {
                Ok(DecisionOut::from_row(&row))
            } else {
                Err(ScreeningError::Conflict)
            };
        }
        let now = app.now();
        let payee = Indicator::Iban(input.payee.clone());
        let view = {
            let index = app.index();
            index.view(index.key_of(&payee), &partner.viewer(), now, &app.settings.scoring)
        };
        if view.status != CheckStatus::NotReported {
            app.audit
                .record(AuditEvent {
                    at: now,
                    actor: partner.actor(),
                    action: AuditAction::CheckHits,
                    subject: app.pseudonym(payee.kind(), payee.canonical()),
                    details: r#"{"via":"payment"}"#.to_owned(),
                })
                .await;
        }
        let payer_key = self.keyer.key(input.payer.as_str());
        let payee_key = self.keyer.key(input.payee.as_str());
        let facts = PaymentFacts {
            payer: payer_key,
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
            on_call: input.subscriber_ref.as_deref().map(|r| app.calls.on_call(r, now)),
        };
        let rules = self.rules.current();
        let write = {
            let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let verdict = state.evaluate(&rules, &facts);
            state.record(&facts, verdict.decision);
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
            DecisionWrite {
                partner_seq: partner.seq,
                decision: row(input, &digest, &verdict, &rules.version, now),
                payer,
                accounts,
            }
        };
        let stored = write.decision.clone();
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(WriteJob { write, reply })
            .await
            .map_err(|_| ScreeningError::Stopped)?;
        match answer.await.map_err(|_| ScreeningError::Stopped)? {
            Ok(DecisionOutcome::Stored) => Ok(DecisionOut::from_row(&stored)),
            Ok(DecisionOutcome::Existing(row)) if row.request_digest == digest => Ok(DecisionOut::from_row(&row)),
            Ok(DecisionOutcome::Existing(_)) => Err(ScreeningError::Conflict),
            Err(message) => Err(ScreeningError::Store(StoreError::Database(message))),
        }
    }
}

/// The answer form of a stored decision.
pub fn decision_out(row: &PaymentDecisionRow) -> DecisionOut {
    DecisionOut::from_row(row)
}

fn row(input: &PaymentInput, digest: &str, verdict: &Verdict, version: &str, now: Timestamp) -> PaymentDecisionRow {
    let reasons: Vec<serde_json::Value> = verdict
        .reasons
        .iter()
        .map(|r| serde_json::json!({"code": r.code, "message": r.message}))
        .collect();
    PaymentDecisionRow {
        payment_id: input.id.clone(),
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

/// Writes decisions in batches: whatever is waiting goes into one transaction.
async fn write_decisions(store: Arc<dyn Store>, mut rx: mpsc::Receiver<WriteJob>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let writes: Vec<DecisionWrite> = jobs.iter().map(|j| j.write.clone()).collect();
        let mut attempt = store.store_decisions(&writes).await;
        if attempt.is_err() {
            // One retry after a short pause covers a busy database; after that the requests fail.
            tokio::time::sleep(Duration::from_millis(50)).await;
            attempt = store.store_decisions(&writes).await;
        }
        match attempt {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
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
