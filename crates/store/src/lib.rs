//! Vangnet storage: the [`Store`] trait and its two implementations.
//!
//! - [`sqlite::SqliteStore`]: the embedded default, one file (`./vangnet.db`) in WAL mode, no
//!   other service needed.
//! - [`postgres::PostgresStore`]: for several server nodes sharing one database.
//!
//! Both run the same storage test suite (`tests/storage`). Both write a report, the indicator
//! records it touches, its change-feed row and its audit entry in one transaction, so a
//! report is either stored with all its effects or not at all.
//!
//! This crate must not know HTTP or JSON wire formats, and must never log personal data:
//! errors carry database messages, never indicator values.

mod batch;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use vangnet_core::audit::{AuditEntry, AuditEvent};
use vangnet_core::index::{CitizenReview, IndicatorIndex, IndicatorStatus, ReportFacts};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{AgeBand, Channel, FraudType, IndicatorRole, NewReport, Tlp};
use vangnet_core::token::TokenDigest;
use vangnet_core::{Money, Timestamp};

pub use batch::report_created_event;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("the database URL is not understood: {0}")]
    Url(String),
    #[error("migration {version} failed: {message}")]
    Migration { version: i64, message: String },
    #[error("a partner named `{0}` already exists")]
    DuplicatePartner(String),
    #[error("no partner `{0}`")]
    UnknownPartner(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The partner's number, used inside the platform (and in the index).
    pub seq: i64,
    /// The public identifier.
    pub id: String,
    pub name: String,
    pub kind: PartnerKind,
    pub created_at: Timestamp,
}

impl Partner {
    /// This partner as a reader, for TLP decisions.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            partner: u32::try_from(self.seq).unwrap_or(u32::MAX),
            kind: self.kind,
        }
    }

    /// How this partner appears as the actor in the audit log.
    pub fn actor(&self) -> String {
        format!("partner:{}", self.id)
    }
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub partner_id: String,
    pub label: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// An indicator as named in a stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIndicator {
    pub kind: IndicatorKind,
    pub value: String,
    pub role: IndicatorRole,
    pub derived: bool,
}

/// The retraction of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retraction {
    pub at: Timestamp,
    pub by_partner_id: String,
    pub reason: Option<String>,
}

/// A reviewer's decision about a citizen report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReview {
    pub outcome: CitizenReview,
    pub at: Timestamp,
    pub by_partner_id: String,
    pub note: Option<String>,
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub seq: i64,
    pub id: String,
    pub partner_seq: i64,
    pub partner_id: String,
    pub partner_name: String,
    pub partner_kind: PartnerKind,
    pub external_id: Option<String>,
    pub fraud_type: FraudType,
    pub channel: Option<Channel>,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub amount: Option<Money>,
    pub aangifte: bool,
    pub victim_age_band: AgeBand,
    pub tlp: Tlp,
    pub description: Option<String>,
    /// For citizen reports: the submitter's pseudonym (a keyed hash).
    pub submitter: Option<String>,
    pub indicators: Vec<StoredIndicator>,
    pub retraction: Option<Retraction>,
    /// For citizen reports: the reviewer's decision, once made.
    pub review: Option<ReportReview>,
}

impl StoredReport {
    /// Whether this report came from a citizen (the public web form).
    pub fn is_citizen(&self) -> bool {
        self.partner_kind == PartnerKind::Citizen
    }

    /// The review state of a citizen report (`Unverified` until a reviewer decides).
    pub fn citizen_review(&self) -> CitizenReview {
        self.review.as_ref().map_or(CitizenReview::Unverified, |r| r.outcome)
    }

    /// The facts the index keeps about this report, for each of its indicators.
    pub fn index_links(&self) -> Vec<(IndicatorKind, &str, ReportFacts)> {
        let facts = ReportFacts {
            report: u32::try_from(self.seq).unwrap_or(u32::MAX),
            partner: u32::try_from(self.partner_seq).unwrap_or(u32::MAX),
            source: self.partner_kind,
            fraud_type: self.fraud_type,
            tlp: self.tlp,
            occurred_at: self.occurred_at,
            amount: self.amount,
            aangifte: self.aangifte,
            retracted: self.retraction.is_some(),
            submitter: self.submitter.as_deref().map_or(0, submitter_tag),
            review: self.citizen_review(),
        };
        self.indicators.iter().map(|i| (i.kind, i.value.as_str(), facts)).collect()
    }
}

/// The id of the platform-internal source under which citizens' reports are filed (made by
/// migration 2; not a partner organisation, never has tokens, not listed among partners).
pub const CITIZEN_SOURCE_ID: &str = "00000000-0000-7000-8000-000000000001";

/// The index's 32-bit tag of a submitter pseudonym (its first eight hex digits).
pub fn submitter_tag(pseudonym: &str) -> u32 {
    pseudonym.get(..8).and_then(|h| u32::from_str_radix(h, 16).ok()).unwrap_or_else(|| {
        pseudonym
            .bytes()
            .fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
    })
}

/// What happened to one report of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now.
    Created(StoredReport),
    /// The partner sent this `external_id` before with the same content; nothing was stored.
    /// `id` is the stored report's (read it with [`Store::report`] when needed).
    Existing { id: String },
    /// The partner sent this `external_id` before with different content; nothing was stored.
    Conflict { existing_id: String },
}

/// What happened to a review of a citizen report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    Reviewed(StoredReport),
    /// A reviewer decided before; the first decision stands.
    AlreadyReviewed(StoredReport),
    /// No such report, or not a citizen report.
    NotFound,
}

/// What happened to a retraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetractOutcome {
    Retracted(StoredReport),
    AlreadyRetracted(StoredReport),
    NotFound,
    /// Only the partner that filed a report, or the police, may retract it.
    NotAllowed,
}

/// The stored record of an indicator: its review status and facts. Report counts per reader
/// come from the index, which applies TLP; the totals here include every report.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub kind: IndicatorKind,
    pub value: String,
    pub status: IndicatorStatus,
    pub status_reason: Option<String>,
    pub status_at: Option<Timestamp>,
    pub reports: i64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub country: Option<String>,
    pub bank_code: Option<String>,
    pub mixed_script: bool,
    pub confusable: bool,
    /// Reports per fraud type, in [`FraudType::ALL`] order.
    pub fraud_types: [i64; vangnet_core::report::FRAUD_TYPE_COUNT],
}

/// One entry of the change feed, which lets every server node's index follow writes made
/// elsewhere (another node, or `vangnet import` on the command line).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub at: Timestamp,
    pub event: ChangeEvent,
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeEvent {
    /// A report was stored; it is given whole so the index can add its links.
    Report(Box<StoredReport>),
    /// A report was retracted; its indicators are listed.
    Retraction {
        report_seq: i64,
        indicators: Vec<(IndicatorKind, String)>,
    },
    /// An indicator's review status changed (last writer wins, by the change's `seq`).
    Status {
        kind: IndicatorKind,
        value: String,
        status: IndicatorStatus,
    },
    /// A reviewer verified or rejected a citizen report; its indicators are listed.
    Review {
        report_seq: i64,
        review: CitizenReview,
        indicators: Vec<(IndicatorKind, String)>,
    },
}

/// Whether an entry of a call list is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEntryState {
    /// Screened against.
    Active,
    /// Waiting for an operator's approval (a bank's do-not-originate entry).
    Pending,
}

impl CallEntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallEntryState::Active => "active",
            CallEntryState::Pending => "pending",
        }
    }

    pub fn from_key(key: &str) -> Option<CallEntryState> {
        match key {
            "active" => Some(CallEntryState::Active),
            "pending" => Some(CallEntryState::Pending),
            _ => None,
        }
    }
}

/// A number on a call list, with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallListEntry {
    pub list: String,
    pub e164: String,
    /// The partner that added it (`seq` and public id).
    pub owner_seq: i64,
    pub owner_id: String,
    pub state: CallEntryState,
    pub added_at: Timestamp,
    pub approved_at: Option<Timestamp>,
}

/// One change of a call-list entry, kept for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallListChange {
    pub at: Timestamp,
    /// `partner:<id>` or `cli`.
    pub actor: String,
    /// `requested` (pending), `added`, `approved` or `removed`.
    pub change: String,
    pub owner_id: String,
}

/// What happened to one number put on a call list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallListAdd {
    /// Put on the list now (active or pending).
    Added(CallListEntry),
    /// Already on the list for this owner; unchanged.
    Existing(CallListEntry),
    /// Another partner's entry; unchanged.
    OwnedByOther(CallListEntry),
}

/// What happened to a removal from a call list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallListRemove {
    Removed(CallListEntry),
    NotFound,
    /// The entry belongs to another partner.
    NotOwner(CallListEntry),
}

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

/// A PNBF case as stored. The store filters on the fields; the rest of the case is `body`,
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

/// The largest number of reports one `insert_reports` call takes.
pub const MAX_INSERT_BATCH: usize = 20_000;

/// The storage contract. Every method is one transaction.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates a partner with its first API token (given as a digest) and audits it.
    async fn create_partner(
        &self,
        name: &str,
        kind: PartnerKind,
        token: &TokenDigest,
        token_label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(Partner, TokenInfo), StoreError>;

    /// Every partner, oldest first.
    async fn partners(&self) -> Result<Vec<Partner>, StoreError>;

    /// A partner by its id or its exact name.
    async fn partner(&self, id_or_name: &str) -> Result<Option<Partner>, StoreError>;

    /// Adds an API token to a partner.
    async fn add_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError>;

    /// The tokens of a partner, revoked ones included.
    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError>;

    /// Revokes a token; returns false if there is no such active token.
    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// The partner an active token belongs to.
    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError>;

    /// Stores reports from one partner (at most [`MAX_INSERT_BATCH`]), with their indicator
    /// records, change-feed rows and audit entries, in one transaction. Reports whose
    /// `external_id` the partner used before are not stored again.
    async fn insert_reports(
        &self,
        partner: &Partner,
        reports: &[NewReport],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// Retracts a report (by the partner that filed it, or by the police).
    async fn retract_report(
        &self,
        report_id: &str,
        by: &Partner,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<RetractOutcome, StoreError>;

    /// A report by its public id.
    async fn report(&self, id: &str) -> Result<Option<StoredReport>, StoreError>;

    /// Reports by sequence number, in the order asked; unknown numbers are skipped.
    async fn reports_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredReport>, StoreError>;

    /// Sets the review status of an indicator, audited under `audit_subject` (the indicator's
    /// pseudonym: the audit log holds no indicator values). Returns the change-feed position
    /// the status was written at (statuses are last-writer-wins by this position).
    #[allow(clippy::too_many_arguments)]
    async fn set_indicator_status(
        &self,
        kind: IndicatorKind,
        value: &str,
        status: IndicatorStatus,
        reason: Option<&str>,
        actor: &str,
        audit_subject: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;

    /// Records a reviewer's decision (`Verified` or `Rejected`) about a citizen report, with
    /// its change-feed row and audit entry. The first decision is final.
    async fn review_citizen_report(
        &self,
        report_id: &str,
        review: CitizenReview,
        by: &Partner,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<ReviewOutcome, StoreError>;

    /// Citizen reports that are not retracted and in `review` state, oldest first, after
    /// report number `after`, at most `limit` (the triage queue).
    async fn citizen_reports(&self, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError>;

    /// The stored record of an indicator.
    async fn indicator(&self, kind: IndicatorKind, value: &str) -> Result<Option<IndicatorRow>, StoreError>;

    /// Fills an index with every report link and status; returns it with the change-feed
    /// position it reflects.
    async fn load_index(&self, index: IndicatorIndex) -> Result<(IndicatorIndex, i64), StoreError>;

    /// Changes after feed position `after`, oldest first, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// The newest feed position.
    async fn feed_head(&self) -> Result<i64, StoreError>;

    /// Deletes change-feed rows older than `before` (the index loads from the tables
    /// themselves at start; the feed only serves nodes that are running).
    async fn prune_changes(&self, before: Timestamp) -> Result<u64, StoreError>;

    /// Appends entries to the audit log.
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError>;

    /// Audit entries after sequence number `after`, in order, at most `limit`.
    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The newest audit entries of one actor, newest first.
    async fn audit_entries_of(&self, actor: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The recorded head of the audit chain.
    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError>;

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

    /// Puts numbers on a call list (`protected` or `exception`) for `owner`, in `state`, with
    /// their history rows and one audit entry; one outcome per number, in order. A number
    /// another partner owns is left as it is.
    async fn add_call_numbers(
        &self,
        list: &str,
        numbers: &[String],
        owner: &Partner,
        state: CallEntryState,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CallListAdd>, StoreError>;

    /// Makes a pending entry active (an operator's approval), audited; `None` if there is no
    /// such entry. An active entry is returned unchanged.
    async fn approve_call_number(&self, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError>;

    /// Removes a number from a call list, audited. With `owner`, only that partner's entry is
    /// removed (another's is `NotOwner`); `None` removes anyone's (operators).
    async fn remove_call_number(
        &self,
        list: &str,
        e164: &str,
        owner: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<CallListRemove, StoreError>;

    /// The active numbers on a call list (what screening uses).
    async fn call_numbers(&self, list: &str) -> Result<Vec<String>, StoreError>;

    /// The entries of a call list, pending ones included; only `owner`'s with `Some`.
    async fn call_list_entries(&self, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError>;

    /// One entry of a call list, if it is there.
    async fn call_list_entry(&self, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError>;

    /// The history of one number on a call list, oldest first (also after its removal).
    async fn call_list_history(&self, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError>;

    /// Records or withdraws a subscriber's opt-out of the on-call signal.
    async fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool, now: Timestamp) -> Result<(), StoreError>;

    /// Every opted-out subscriber reference.
    async fn opt_outs(&self) -> Result<Vec<String>, StoreError>;

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

    /// A platform setting.
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// A platform setting, stored with `value` first if it has none (the first writer wins).
    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError>;
}

/// Opens the store a database URL names, creating and migrating it as needed:
/// `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
/// plain file path for SQLite.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, Durability::Full).await
}

/// How hard a store works to keep the last transactions through a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is on disk before it returns (the server).
    Full,
    /// Commits may be lost on a power loss or OS crash, never corrupted: for bulk imports,
    /// which are idempotent and can simply be run again.
    Bulk,
}

/// Opens a store with the given durability.
pub async fn open_with(url: &str, durability: Durability) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PostgresStore::connect_with_durability(url, durability).await?));
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::Url(describe_url(url)));
    }
    Ok(Arc::new(
        sqlite::SqliteStore::open_with(std::path::Path::new(path), durability).await?,
    ))
}

/// A database URL with any password removed, safe to print.
pub fn describe_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

pub(crate) fn parse_key<T>(value: &str, what: &str, from_key: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    from_key(value).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} `{value}`")))
}

/// A new identifier: a UUID version 7, so ids made one after another sort together and the
/// unique indexes on them grow at the end instead of everywhere.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Verifies the whole audit chain up to its recorded head, streaming it in pages;
/// `on_progress` gets the number of entries checked so far. With `anchor` (a sequence number
/// and hash recorded earlier, outside the database), the entry at that number must still
/// carry that hash, which detects even a rewrite of the whole log. The outer error is a
/// database failure; the inner one a broken chain.
pub async fn verify_audit(
    store: &dyn Store,
    anchor: Option<(u64, &str)>,
    mut on_progress: impl FnMut(u64) + Send,
) -> Result<Result<(u64, String), vangnet_core::audit::AuditBreak>, StoreError> {
    use vangnet_core::audit::{AuditBreak, ChainVerifier};
    const PAGE: u32 = 10_000;
    let mut verifier = ChainVerifier::new();
    // Entries written while verification runs come after the head read here; they are left
    // for the next run rather than taken for a rewritten end.
    let Some(head) = store.audit_head().await? else {
        // The head row is written by the first migration; without it the log was tampered with.
        return Ok(Err(AuditBreak::HeadMismatch));
    };
    let head_seq = head.0;
    let mut after = 0u64;
    let mut anchor_seen = false;
    'pages: while after < head_seq {
        let page = store.audit_entries(after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            if entry.seq > head_seq {
                break 'pages;
            }
            if let Err(broken) = verifier.check(entry) {
                return Ok(Err(broken));
            }
            if let Some((seq, hash)) = anchor
                && entry.seq == seq
            {
                if entry.hash != hash {
                    return Ok(Err(AuditBreak::ExpectedHead {
                        expected: hash.to_owned(),
                        actual: entry.hash.clone(),
                    }));
                }
                anchor_seen = true;
            }
            after = entry.seq;
        }
        on_progress(after);
    }
    let verified = match verifier.finish(Some((head.0, head.1.as_str()))) {
        Ok(v) => v,
        Err(broken) => return Ok(Err(broken)),
    };
    if let Some((seq, _)) = anchor
        && !anchor_seen
    {
        return Ok(Err(AuditBreak::Truncated {
            last: verified.0,
            head: seq,
        }));
    }
    Ok(Ok(verified))
}
