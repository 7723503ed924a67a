//! Payment screening: stored decisions and screening state.

use async_trait::async_trait;
use vangnet_core::Timestamp;

use crate::StoreError;

/// A stored payment decision (`reasons` is the server's JSON text, kept as given).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentDecisionRow {
    pub payment_id: String,
    pub request_digest: String,
    pub decided_at: Timestamp,
    pub decision: String,
    pub score: f64,
    pub reasons: String,
    pub rules_version: String,
}

/// The screening state of one payer or account after a decision: its key and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateBlob {
    pub key: String,
    pub state: Vec<u8>,
}

/// One decision to store with the state it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionWrite {
    pub partner_seq: i64,
    pub decision: PaymentDecisionRow,
    pub payer: Option<StateBlob>,
    pub accounts: Vec<StateBlob>,
}

/// What happened to one decision write.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionOutcome {
    Stored,
    /// This partner sent this payment id before; the stored decision is returned unchanged.
    Existing(PaymentDecisionRow),
}

/// Payment screening: decisions (one per payment id and partner) and the screening state.
#[async_trait]
pub trait ScreeningStore: Send + Sync {
    /// Stores decisions and the screening state they changed, in one transaction (several
    /// requests' decisions share it: group commit). A payment id the partner used before is
    /// not stored again; its earlier decision is returned and its state is not written.
    async fn store_decisions(&self, writes: &[DecisionWrite]) -> Result<Vec<DecisionOutcome>, StoreError>;

    /// A partner's stored decisions for several payment ids (those that exist), in one query.
    async fn payment_decisions(&self, partner_seq: i64, payment_ids: &[String]) -> Result<Vec<PaymentDecisionRow>, StoreError>;

    /// A partner's stored decision for a payment id.
    async fn payment_decision(&self, partner_seq: i64, payment_id: &str) -> Result<Option<PaymentDecisionRow>, StoreError>;

    /// The persisted screening state, most recently updated first, at most `limit` of each:
    /// (payer profiles, account activity).
    async fn screening_state(&self, limit: u32) -> Result<(Vec<StateBlob>, Vec<StateBlob>), StoreError>;
}
