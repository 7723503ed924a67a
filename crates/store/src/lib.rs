//! Vangnet storage: one trait per capability ([`PartnerStore`], [`ReportStore`],
//! [`CitizenReportStore`], [`AuditStore`], [`ScreeningStore`], [`CallStore`], [`PnbfStore`],
//! [`DisputeStore`], [`DisputeRequestStore`], [`RetentionStore`], [`SubjectStore`], [`SettingsStore`],
//! [`MuleStore`], [`NetworkStore`]), [`Store`] for all of them
//! together, and two implementations with one file per capability each:
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

mod audit;
mod batch;
mod calls;
mod citizen_reports;
mod dispute_requests;
mod disputes;
pub mod mules;
pub mod networks;
mod partners;
mod pnbf;
pub mod postgres;
mod reports;
mod retention;
mod rows;
mod screening;
mod settings;
pub mod sqlite;
mod subjects;

use std::sync::Arc;

use async_trait::async_trait;

pub use audit::{AuditStore, verify_audit};
pub use batch::report_created_event;
pub use calls::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, CallStore};
pub use citizen_reports::{CitizenReportStore, ReviewOutcome};
pub use dispute_requests::{ClearanceReviewRow, DisputeRequestRow, DisputeRequestStore, NewDisputeRequest, RequestDecision};
pub use disputes::{DisputeChange, DisputeEvent, DisputeRow, DisputeStore, NewDispute, OpenOutcome};
pub use mules::{AlertScope, FlagAccount, FlagRow, FlagWrite, MuleStore, TransactionOutcome, TransactionRow};
pub use networks::NetworkStore;
pub use partners::{Grant, Partner, PartnerStore, TokenInfo};
pub use pnbf::{PnbfCaseRow, PnbfEventRow, PnbfStore};
pub use reports::{
    CITIZEN_SOURCE_ID, Change, ChangeEvent, IndicatorRow, InsertOutcome, MAX_INSERT_BATCH, ReportReview, ReportStore, RetractOutcome,
    Retraction, StoredIndicator, StoredReport, submitter_tag,
};
pub use retention::{DecidedCases, DeletedReport, Deletion, RetentionCandidate, RetentionStore};
pub use screening::{DecisionOutcome, DecisionWrite, PaymentDecisionRow, ScreeningStore, StateBlob};
pub use settings::SettingsStore;
pub use subjects::{MAX_AUDIT_SUBJECTS, SubjectStore};

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

/// The whole storage contract: every capability's store. Every method is one transaction.
/// Code that needs one capability takes that trait; the server holds an `Arc<dyn Store>`.
#[async_trait]
pub trait Store:
    PartnerStore
    + ReportStore
    + CitizenReportStore
    + AuditStore
    + ScreeningStore
    + CallStore
    + PnbfStore
    + DisputeStore
    + DisputeRequestStore
    + RetentionStore
    + SettingsStore
    + SubjectStore
    + MuleStore
    + NetworkStore
    + std::fmt::Debug
{
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
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
