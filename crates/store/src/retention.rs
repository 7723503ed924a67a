//! Retention: the reports whose term may have passed, and their deletion with everything only
//! they held. The audit log keeps its chain; its entries name reports by id and indicators by
//! pseudonym only, so nothing personal stays behind there.

use async_trait::async_trait;
use vangnet_core::Timestamp;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::FraudType;

use crate::StoreError;

/// A report whose term may have passed: what its term depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionCandidate {
    pub seq: i64,
    pub id: String,
    pub fraud_type: FraudType,
    pub source: PartnerKind,
    pub received_at: Timestamp,
    /// When the first of the indicators it names was cleared, if one was.
    pub cleared_at: Option<Timestamp>,
}

/// A deleted report and the indicators it named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedReport {
    pub seq: i64,
    pub indicators: Vec<(IndicatorKind, String)>,
}

/// Why reports are deleted, for the audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion<'a> {
    /// Their retention term passed.
    Retention,
    /// An operator erased one, with a reason.
    Erasure { reason: &'a str },
}

/// Decided cases past their term (or deleted): disputes with their history, objections from
/// the public form with the sender's contact details, closed reviews of cleared indicators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecidedCases {
    pub disputes: u64,
    pub objections: u64,
    pub clearance_reviews: u64,
}

impl DecidedCases {
    pub fn total(&self) -> u64 {
        self.disputes + self.objections + self.clearance_reviews
    }
}

/// The SQL (the same on both databases, `?` for the one parameter) that selects what
/// [`RetentionStore::delete_decided_cases`] deletes: decided before the parameter.
pub(crate) const DECIDED_DISPUTES: &str = "state <> 'open' AND decided_at < ?";
pub(crate) const DECIDED_OBJECTIONS: &str = "state <> 'pending' AND decided_at < ?";
pub(crate) const CLOSED_REVIEWS: &str = "closed_at < ?";

/// The audit entry of deleted decided cases: counts only.
pub(crate) fn decided_audit(cases: DecidedCases, actor: &str, now: Timestamp) -> vangnet_core::audit::AuditEvent {
    vangnet_core::audit::AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: vangnet_core::audit::AuditAction::RetentionDelete,
        subject: "retention".to_owned(),
        details: serde_json::json!({
            "disputes": cases.disputes,
            "objections": cases.objections,
            "clearance_reviews": cases.clearance_reviews,
        })
        .to_string(),
    }
}

/// Reports past their term, and deleting reports.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Reports after number `after` (in number order, at most `limit`) received before
    /// `received_before`, or naming an indicator cleared before `cleared_before`.
    async fn retention_candidates(
        &self,
        after: i64,
        received_before: Timestamp,
        cleared_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<RetentionCandidate>, StoreError>;

    /// Deletes reports in one transaction: their text, amounts and links, retraction, review
    /// and clearance reviews; takes them out of their indicators' counts (unless retracted
    /// before) and deletes indicator records left without reports and without a review status;
    /// writes one `deletion` change-feed row per report and indicator, so every node's index
    /// follows, and one audit entry (how many, and why). Reports already gone are skipped, so
    /// two nodes may sweep at once.
    async fn delete_reports(&self, seqs: &[i64], why: Deletion<'_>, actor: &str, now: Timestamp) -> Result<Vec<DeletedReport>, StoreError>;

    /// How many disputes and objections were decided, and clearance reviews closed, before
    /// `before` (what [`RetentionStore::delete_decided_cases`] would delete).
    async fn decided_cases_before(&self, before: Timestamp) -> Result<DecidedCases, StoreError>;

    /// Deletes, in one transaction, the disputes (with their history) and objections decided
    /// before `before` and the clearance reviews closed before it, with one audit entry of the
    /// counts. Undecided ones are kept. An indicator's status stays as the decision left it.
    async fn delete_decided_cases(&self, before: Timestamp, actor: &str, now: Timestamp) -> Result<DecidedCases, StoreError>;
}

/// The audit entry of a deletion: counts and the reason, never the reports' contents.
pub(crate) fn deletion_audit(why: Deletion<'_>, ids: &[String], actor: &str, now: Timestamp) -> vangnet_core::audit::AuditEvent {
    let (action, subject, details) = match why {
        Deletion::Retention => (
            vangnet_core::audit::AuditAction::RetentionDelete,
            "retention".to_owned(),
            serde_json::json!({ "reports": ids.len() }),
        ),
        Deletion::Erasure { reason } => (
            vangnet_core::audit::AuditAction::ReportErase,
            ids.first().map_or_else(|| "report:".to_owned(), |id| format!("report:{id}")),
            serde_json::json!({ "reason": reason }),
        ),
    };
    vangnet_core::audit::AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action,
        subject,
        details: details.to_string(),
    }
}
