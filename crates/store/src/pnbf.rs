//! PNBF recovery cases and the bank-code directory.

use async_trait::async_trait;
use vangnet_core::Timestamp;

use crate::StoreError;

/// JSON the server writes and reads. `naw` is the encrypted name and address, never plain.
#[derive(Debug, Clone, PartialEq)]
pub struct PnbfCaseRow {
    pub id: String,
    /// The victim's bank (partner `seq`), which opened the case.
    pub victim_bank: i64,
    /// The payee's bank (partner `seq`), when the directory knows it.
    pub payee_bank: Option<i64>,
    pub state: String,
    /// Raised by one with every change; the change's event carries the new version as `seq`.
    pub version: i64,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the payee's term ends (only while it runs).
    pub term_ends: Option<Timestamp>,
    /// When the payee's bank is reminded (only until it was).
    pub remind_at: Option<Timestamp>,
    /// When the NAW is deleted (only while it is kept).
    pub naw_delete_at: Option<Timestamp>,
    /// SHA-256 (hex) of the victim's secret link.
    pub link_digest: String,
    pub body: String,
    pub naw: Option<Vec<u8>>,
}

/// One change of a PNBF case: who, when, what and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PnbfEventRow {
    pub case_id: String,
    /// The case's version after this change.
    pub seq: i64,
    pub at: Timestamp,
    /// `partner:<id>`, or `system` for terms that pass.
    pub actor: String,
    /// `victim_bank`, `payee_bank` or `system`.
    pub side: String,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    /// Further facts as compact JSON, never the NAW.
    pub details: String,
}

/// PNBF recovery cases, their events and the bank-code directory.
#[async_trait]
pub trait PnbfStore: Send + Sync {
    /// Stores a new PNBF case with its first event.
    async fn pnbf_open(&self, case: &PnbfCaseRow, event: &PnbfEventRow) -> Result<(), StoreError>;

    /// A PNBF case by id.
    async fn pnbf_case(&self, id: &str) -> Result<Option<PnbfCaseRow>, StoreError>;

    /// A PNBF case by the digest of the victim's link.
    async fn pnbf_case_by_link(&self, link_digest: &str) -> Result<Option<PnbfCaseRow>, StoreError>;

    /// Writes a changed case (every field but its id, victim's bank and opening time) and its
    /// event if the stored version is still `expected_version`
    /// (false when another change came first: nothing is written).
    async fn pnbf_update(&self, case: &PnbfCaseRow, expected_version: i64, event: &PnbfEventRow) -> Result<bool, StoreError>;

    /// A case's events, oldest first.
    async fn pnbf_events(&self, case_id: &str) -> Result<Vec<PnbfEventRow>, StoreError>;

    /// The cases a partner is on either side of (every case for `None`), newest first.
    async fn pnbf_cases(&self, partner_seq: Option<i64>) -> Result<Vec<PnbfCaseRow>, StoreError>;

    /// Cases with a term, reminder or NAW deletion due at or before `now`.
    async fn pnbf_due(&self, now: Timestamp) -> Result<Vec<PnbfCaseRow>, StoreError>;

    /// Points a bank code at the partner that holds its accounts, or removes it (`None`).
    async fn pnbf_set_bank_code(&self, code: &str, partner_seq: Option<i64>, now: Timestamp) -> Result<(), StoreError>;

    /// The whole bank-code directory: (code, partner seq), by code.
    async fn pnbf_bank_codes(&self) -> Result<Vec<(String, i64)>, StoreError>;
}
