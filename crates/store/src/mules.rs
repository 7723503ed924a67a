//! Money-mule detection: the transactions the detectors saw and the patterns they flagged.
//!
//! Accounts are keyed pseudonyms (64 bits, stored as the signed integer with the same bits)
//! with their bank codes (letters 5 to 8 of a Dutch IBAN; empty when unknown). A transaction
//! row holds no IBAN; an account's IBAN is kept only in the flags that name it.

use async_trait::async_trait;
use vangnet_core::Timestamp;

use crate::StoreError;

/// One transaction as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRow {
    /// The sender's id of the transaction (unique per partner).
    pub id: String,
    /// A digest of its content, to tell a repeat from a different transaction under one id.
    pub digest: String,
    pub at: Timestamp,
    pub payer: i64,
    pub payee: i64,
    pub payer_bank: String,
    pub payee_bank: String,
    /// What the payer paid and the payee received, in minor units of each account's currency.
    pub amount_minor: i64,
    pub received_minor: i64,
}

/// What happened to one transaction write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionOutcome {
    Stored,
    /// The partner sent this id before with the same content: nothing changed.
    Repeat,
    /// The partner sent this id before with different content: refused.
    Conflict,
}

/// One account named in a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagAccount {
    pub account: i64,
    pub bank: String,
    /// The IBAN, when the service knew it when the flag was raised.
    pub iban: Option<String>,
    /// The account the pattern centres on.
    pub centre: bool,
}

/// A flag to store.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagWrite {
    pub raised_at: Timestamp,
    pub pattern: String,
    pub score: f64,
    pub window_from: Timestamp,
    pub window_to: Timestamp,
    pub amount_minor: i64,
    pub more_accounts: i64,
    /// In the flag's order: the centre first.
    pub accounts: Vec<FlagAccount>,
}

/// A stored flag.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagRow {
    pub seq: i64,
    pub flag: FlagWrite,
}

/// Whose flags a reader may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertScope {
    /// Every flag (the police).
    All,
    /// Flags naming an account with one of these bank codes, or an account that an account
    /// with one of them paid (a bank: its own accounts and the payees its customers paid).
    Banks(Vec<String>),
}

/// The most flags one read returns.
pub const MAX_FLAG_PAGE: u32 = 500;

/// Transactions and mule flags.
#[async_trait]
pub trait MuleStore: Send + Sync {
    /// Stores a partner's transactions in one database transaction; an id the partner used
    /// before is a repeat (same digest) or a conflict, and is not stored again.
    async fn store_transactions(&self, partner_seq: i64, rows: &[TransactionRow]) -> Result<Vec<TransactionOutcome>, StoreError>;

    /// Transactions from time `since` on, in time order, after the position `(at, seq)`
    /// (the last row of the previous page; `(since, 0)` to begin), at most `limit`.
    async fn transactions_after(&self, after: (i64, i64), limit: u32) -> Result<Vec<(i64, TransactionRow)>, StoreError>;

    /// Stores flags in one transaction; returns their sequence numbers.
    async fn store_flags(&self, flags: &[FlagWrite]) -> Result<Vec<i64>, StoreError>;

    /// The flags naming `account` raised from `since` on, newest first, at most `limit`.
    async fn flags_of_account(&self, account: i64, since: Timestamp, limit: u32) -> Result<Vec<FlagRow>, StoreError>;

    /// Flags raised from `since` on, oldest first, after sequence number `after` (to load the
    /// scores at start), at most `limit`.
    async fn flags_since(&self, since: Timestamp, after: i64, limit: u32) -> Result<Vec<FlagRow>, StoreError>;

    /// Flags the scope may see, newest first, with sequence numbers below `before` (`None`:
    /// from the newest), at most `limit` (capped at [`MAX_FLAG_PAGE`]).
    async fn mule_alerts(&self, scope: &AlertScope, before: Option<i64>, limit: u32) -> Result<Vec<FlagRow>, StoreError>;

    /// Of `accounts`, those that an account with one of `banks` paid (any stored transaction).
    async fn paid_by_banks(&self, banks: &[String], accounts: &[i64]) -> Result<Vec<i64>, StoreError>;

    /// Deletes transactions from before `transactions_before` and flags raised before
    /// `flags_before`; returns how many of each.
    async fn prune_mules(&self, transactions_before: Timestamp, flags_before: Timestamp) -> Result<(u64, u64), StoreError>;
}
