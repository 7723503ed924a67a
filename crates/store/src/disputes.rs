//! Disputes: a listed person's objection to a listing, and its moves. Opening a dispute and
//! every move write, in one transaction, the dispute, its event, the indicator's review status
//! (with its change-feed row, so every node's index follows) and the audit entries.

use async_trait::async_trait;
use vangnet_core::Timestamp;
use vangnet_core::dispute::DisputeState;
use vangnet_core::indicator::IndicatorKind;

use crate::{Partner, StoreError};

/// A stored dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRow {
    pub id: String,
    pub kind: IndicatorKind,
    pub value: String,
    pub state: DisputeState,
    /// The partner that opened it (`seq` and public id).
    pub opener_seq: i64,
    pub opener_id: String,
    pub reason: String,
    pub opened_at: Timestamp,
    pub due_at: Timestamp,
    pub remind_at: Option<Timestamp>,
    pub decided_at: Option<Timestamp>,
    /// Grows by one with every move; a move names the version it was decided on.
    pub version: i64,
}

/// One move of a dispute (`opened`, `upheld`, `rejected`, `withdrawn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeEvent {
    pub at: Timestamp,
    pub actor: String,
    pub event: String,
    pub from_state: Option<DisputeState>,
    pub to_state: DisputeState,
    pub reason: String,
}

/// A dispute to open.
#[derive(Debug, Clone)]
pub struct NewDispute {
    pub id: String,
    pub kind: IndicatorKind,
    pub value: String,
    pub reason: String,
    pub due_at: Timestamp,
    pub remind_at: Option<Timestamp>,
    /// The indicator's pseudonym for the audit log (which holds no indicator values).
    pub audit_subject: String,
}

/// What opening a dispute did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// Opened; the indicator is `disputed` from the returned change-feed position on.
    Opened { dispute: DisputeRow, position: i64 },
    /// The indicator has an open dispute already (its id).
    AlreadyOpen { id: String },
}

/// A move to record.
#[derive(Debug, Clone)]
pub struct DisputeChange {
    pub to: DisputeState,
    /// The version the move was decided on; another move in between makes it `None`.
    pub expected_version: i64,
    pub reason: String,
    pub audit_subject: String,
}

/// Disputes and their history.
#[async_trait]
pub trait DisputeStore: Send + Sync {
    /// Opens a dispute for `by` and marks the indicator `disputed`.
    async fn open_dispute(&self, new: &NewDispute, by: &Partner, now: Timestamp) -> Result<OpenOutcome, StoreError>;

    /// Moves a dispute and sets the indicator's status to what the new state means; `None`
    /// when the dispute is unknown or was moved since `expected_version`. Returns the dispute
    /// and the status's change-feed position.
    async fn move_dispute(
        &self,
        id: &str,
        change: &DisputeChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<(DisputeRow, i64)>, StoreError>;

    /// A dispute by id.
    async fn dispute(&self, id: &str) -> Result<Option<DisputeRow>, StoreError>;

    /// Disputes, oldest first: in `state` (any when `None`), opened by `opener` (anyone's
    /// when `None`), opened after the dispute `after` (by id, for paging), at most `limit`.
    async fn disputes(
        &self,
        state: Option<DisputeState>,
        opener: Option<i64>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisputeRow>, StoreError>;

    /// The moves of a dispute, oldest first.
    async fn dispute_events(&self, id: &str) -> Result<Vec<DisputeEvent>, StoreError>;

    /// The disputes about one indicator, oldest first.
    async fn disputes_of(&self, kind: IndicatorKind, value: &str) -> Result<Vec<DisputeRow>, StoreError>;
}

/// The columns every backend reads a dispute with, in [`DisputeRecord`] order.
pub(crate) const DISPUTE_SELECT: &str = "SELECT d.id, d.kind, d.value, d.state, d.opener_seq, p.id, d.reason, \
     d.opened_at, d.due_at, d.remind_at, d.decided_at, d.version FROM disputes d JOIN partners p ON p.seq = d.opener_seq";

/// A dispute as the database returns it, before its keys are checked.
pub(crate) struct DisputeRecord {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub state: String,
    pub opener_seq: i64,
    pub opener_id: String,
    pub reason: String,
    pub opened_at: i64,
    pub due_at: i64,
    pub remind_at: Option<i64>,
    pub decided_at: Option<i64>,
    pub version: i64,
}

impl DisputeRecord {
    pub(crate) fn into_row(self) -> Result<DisputeRow, StoreError> {
        Ok(DisputeRow {
            kind: IndicatorKind::from_key(&self.kind).ok_or_else(|| StoreError::Corrupt(format!("dispute kind `{}`", self.kind)))?,
            state: state(&self.state)?,
            id: self.id,
            value: self.value,
            opener_seq: self.opener_seq,
            opener_id: self.opener_id,
            reason: self.reason,
            opened_at: Timestamp::from_millis(self.opened_at),
            due_at: Timestamp::from_millis(self.due_at),
            remind_at: self.remind_at.map(Timestamp::from_millis),
            decided_at: self.decided_at.map(Timestamp::from_millis),
            version: self.version,
        })
    }
}

/// A stored dispute state.
pub(crate) fn state(key: &str) -> Result<DisputeState, StoreError> {
    DisputeState::from_key(key).ok_or_else(|| StoreError::Corrupt(format!("dispute state `{key}`")))
}

/// The audit entry of a dispute's move (pseudonymous: the subject is the indicator's pseudonym).
pub(crate) fn dispute_audit(
    action: vangnet_core::audit::AuditAction,
    id: &str,
    to: DisputeState,
    actor: &str,
    subject: &str,
    now: Timestamp,
) -> vangnet_core::audit::AuditEvent {
    vangnet_core::audit::AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action,
        subject: subject.to_owned(),
        details: serde_json::json!({ "dispute": id, "state": to.as_str() }).to_string(),
    }
}

/// The status reason a dispute gives its indicator: the dispute and its state, never the
/// person's own words (which only the dispute's readers see).
pub(crate) fn status_reason(id: &str, state: DisputeState) -> String {
    format!("dispute {id}: {state}")
}
