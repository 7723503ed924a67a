//! Objections from the public form (`/bezwaar`) and the reviews of cleared indicators that a
//! new report named. Neither changes what checks answer by itself: a reviewer decides.

use async_trait::async_trait;
use vangnet_core::Timestamp;
use vangnet_core::dispute::{ClearanceOutcome, RequestState};
use vangnet_core::indicator::IndicatorKind;

use crate::StoreError;

/// An objection a person sent through the public form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRequestRow {
    pub id: String,
    pub kind: IndicatorKind,
    pub value: String,
    /// The person's own words.
    pub reason: String,
    /// How the reviewer may answer (an e-mail address or phone number), if given.
    pub contact: Option<String>,
    /// The language of the form (`nl` or `en`), for the answer.
    pub language: String,
    /// A keyed pseudonym of the sender's address (never the address itself).
    pub submitter: String,
    pub received_at: Timestamp,
    pub state: RequestState,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_reason: Option<String>,
    /// The dispute an accepted request became.
    pub dispute_id: Option<String>,
}

/// An objection to store.
#[derive(Debug, Clone)]
pub struct NewDisputeRequest {
    pub id: String,
    pub kind: IndicatorKind,
    pub value: String,
    pub reason: String,
    pub contact: Option<String>,
    pub language: String,
    pub submitter: String,
}

/// A reviewer's decision about an objection.
#[derive(Debug, Clone)]
pub struct RequestDecision {
    pub to: RequestState,
    pub reason: String,
    pub dispute_id: Option<String>,
}

/// A review of a cleared indicator that a new report named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearanceReviewRow {
    pub seq: i64,
    pub kind: IndicatorKind,
    pub value: String,
    /// The first report that named it after it was cleared.
    pub report_id: String,
    pub opened_at: Timestamp,
    /// Reports that named it while the review was open.
    pub reports: i64,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<String>,
    pub outcome: Option<ClearanceOutcome>,
    pub reason: Option<String>,
}

/// Objections from the public form and reviews of cleared indicators.
#[async_trait]
pub trait DisputeRequestStore: Send + Sync {
    /// Stores a new objection (`pending`).
    async fn add_dispute_request(&self, new: &NewDisputeRequest, now: Timestamp) -> Result<(), StoreError>;

    async fn dispute_request(&self, id: &str) -> Result<Option<DisputeRequestRow>, StoreError>;

    /// Objections in `state` (any when `None`), oldest first, after the one with id `after`.
    async fn dispute_requests(
        &self,
        state: Option<RequestState>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisputeRequestRow>, StoreError>;

    /// Records a reviewer's decision about a pending objection, with its audit entry; `false`
    /// when it is unknown or decided already (the first decision stands).
    async fn decide_dispute_request(&self, id: &str, decision: &RequestDecision, actor: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// Reviews of cleared indicators, oldest first: the open ones only, or all.
    async fn clearance_reviews(&self, open_only: bool, after: Option<i64>, limit: u32) -> Result<Vec<ClearanceReviewRow>, StoreError>;

    async fn clearance_review(&self, seq: i64) -> Result<Option<ClearanceReviewRow>, StoreError>;

    /// Closes an open review, sets the indicator's status to what the outcome means (with its
    /// change-feed row and audit entry) and returns the review and the status's position;
    /// `None` when the review is unknown or closed already.
    async fn close_clearance_review(
        &self,
        seq: i64,
        outcome: ClearanceOutcome,
        reason: &str,
        actor: &str,
        audit_subject: &str,
        now: Timestamp,
    ) -> Result<Option<(ClearanceReviewRow, i64)>, StoreError>;
}

/// The columns every backend reads an objection with, in [`RequestRecord`] order.
pub(crate) const REQUEST_SELECT: &str = "SELECT id, kind, value, reason, contact, language, submitter, received_at, state, \
     decided_by, decided_at, decision_reason, dispute_id FROM dispute_requests";

/// The columns every backend reads a clearance review with, in [`ClearanceRecord`] order.
pub(crate) const CLEARANCE_SELECT: &str = "SELECT c.seq, c.kind, c.value, r.id, c.opened_at, c.reports, c.closed_at, c.closed_by, \
     c.outcome, c.reason FROM clearance_reviews c JOIN reports r ON r.seq = c.report_seq";

/// An objection as the database returns it.
pub(crate) struct RequestRecord {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub reason: String,
    pub contact: Option<String>,
    pub language: String,
    pub submitter: String,
    pub received_at: i64,
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
    pub dispute_id: Option<String>,
}

impl RequestRecord {
    pub(crate) fn into_row(self) -> Result<DisputeRequestRow, StoreError> {
        Ok(DisputeRequestRow {
            kind: kind(&self.kind)?,
            state: RequestState::from_key(&self.state).ok_or_else(|| StoreError::Corrupt(format!("request state `{}`", self.state)))?,
            id: self.id,
            value: self.value,
            reason: self.reason,
            contact: self.contact,
            language: self.language,
            submitter: self.submitter,
            received_at: Timestamp::from_millis(self.received_at),
            decided_by: self.decided_by,
            decided_at: self.decided_at.map(Timestamp::from_millis),
            decision_reason: self.decision_reason,
            dispute_id: self.dispute_id,
        })
    }
}

/// A clearance review as the database returns it.
pub(crate) struct ClearanceRecord {
    pub seq: i64,
    pub kind: String,
    pub value: String,
    pub report_id: String,
    pub opened_at: i64,
    pub reports: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
}

impl ClearanceRecord {
    pub(crate) fn into_row(self) -> Result<ClearanceReviewRow, StoreError> {
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(key) => Some(ClearanceOutcome::from_key(key).ok_or_else(|| StoreError::Corrupt(format!("clearance outcome `{key}`")))?),
        };
        Ok(ClearanceReviewRow {
            seq: self.seq,
            kind: kind(&self.kind)?,
            value: self.value,
            report_id: self.report_id,
            opened_at: Timestamp::from_millis(self.opened_at),
            reports: self.reports,
            closed_at: self.closed_at.map(Timestamp::from_millis),
            closed_by: self.closed_by,
            outcome,
            reason: self.reason,
        })
    }
}

fn kind(key: &str) -> Result<IndicatorKind, StoreError> {
    IndicatorKind::from_key(key).ok_or_else(|| StoreError::Corrupt(format!("indicator kind `{key}`")))
}

/// The audit entry of a decision about an objection (no personal data: the request's id).
pub(crate) fn request_audit(id: &str, decision: &RequestDecision, actor: &str, now: Timestamp) -> vangnet_core::audit::AuditEvent {
    vangnet_core::audit::AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: vangnet_core::audit::AuditAction::DisputeRequestDecide,
        subject: format!("dispute_request:{id}"),
        details: serde_json::json!({ "state": decision.to.as_str(), "dispute": decision.dispute_id }).to_string(),
    }
}

/// The audit entry of a closed clearance review (the indicator by its pseudonym).
pub(crate) fn clearance_audit(
    seq: i64,
    outcome: ClearanceOutcome,
    actor: &str,
    subject: &str,
    now: Timestamp,
) -> vangnet_core::audit::AuditEvent {
    vangnet_core::audit::AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: vangnet_core::audit::AuditAction::ClearanceReview,
        subject: subject.to_owned(),
        details: serde_json::json!({ "review": seq, "outcome": outcome.as_str() }).to_string(),
    }
}
