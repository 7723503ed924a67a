//! Subject access (AVG article 15): what is stored about one indicator, found by the value
//! (objections, clearance reviews) or by what the audit log names it with (its pseudonym, its
//! reports' ids). The reports naming it come from the index (`IndicatorIndex::reports`).

use async_trait::async_trait;
use vangnet_core::audit::AuditEntry;
use vangnet_core::indicator::IndicatorKind;

use crate::{ClearanceReviewRow, DisputeRequestRow, StoreError};

/// The most audit subjects one [`SubjectStore::audit_about`] call takes.
pub const MAX_AUDIT_SUBJECTS: usize = 500;

/// What is stored about one indicator, for its export.
#[async_trait]
pub trait SubjectStore: Send + Sync {
    /// Audit entries whose subject is one of `subjects` (at most [`MAX_AUDIT_SUBJECTS`]) after
    /// sequence number `after`, in order, at most `limit`.
    async fn audit_about(&self, subjects: &[String], after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The objections sent about the indicator through the public form, oldest first.
    async fn dispute_requests_about(&self, kind: IndicatorKind, value: &str) -> Result<Vec<DisputeRequestRow>, StoreError>;

    /// The reviews of the indicator after it was cleared, oldest first.
    async fn clearance_reviews_about(&self, kind: IndicatorKind, value: &str) -> Result<Vec<ClearanceReviewRow>, StoreError>;
}
