//! The review of citizens' reports.

use async_trait::async_trait;
use vangnet_core::Timestamp;
use vangnet_core::index::CitizenReview;

use crate::{Partner, StoreError, StoredReport};

/// What happened to a review of a citizen report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    Reviewed(StoredReport),
    /// A reviewer decided before; the first decision stands.
    AlreadyReviewed(StoredReport),
    /// No such report, or not a citizen report.
    NotFound,
}

/// The review of citizens' reports: the triage queue and the reviewers' decisions.
#[async_trait]
pub trait CitizenReportStore: Send + Sync {
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
}
