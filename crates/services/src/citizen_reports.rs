//! The triage of citizen reports: what the helpdesk and the police do with reports that came
//! in through the public web form. A citizen report is unverified until a reviewer decides:
//! verified, it counts like any report (with the citizen weight); rejected, it counts nowhere.
//! The API (`routes/citizen_reports.rs`) and the console (`web/triage.rs`) both go through here,
//! so both are audited alike. Must not know HTTP or HTML.

use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::CitizenReview;
use vangnet_store::{Partner, ReviewOutcome, StoreError, StoredReport};

use crate::state::Services;

/// The longest reviewer's note, in characters.
pub const MAX_NOTE: usize = 1_000;
/// Reports per page of the queue, at most.
pub const MAX_PAGE: u32 = 200;

/// Why a review or a read of the queue was refused.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("only the fraud helpdesk and the police review citizen reports")]
    NotAReviewer,
    #[error("no such citizen report")]
    NotFound,
    #[error("a reviewer decided about this report before")]
    AlreadyReviewed(Box<StoredReport>),
    #[error("the note is longer than {MAX_NOTE} characters or holds control characters")]
    InvalidNote,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of the queue: the reports and the cursor of the next page.
#[derive(Debug)]
pub struct QueuePage {
    pub reports: Vec<StoredReport>,
    pub next: Option<i64>,
}

/// Citizen reports in `review` state, oldest first, after report number `after`; the read is
/// audited (the reviewer sees the submitters' own words).
pub async fn queue(state: &Services, reader: &Partner, review: CitizenReview, after: i64, limit: u32) -> Result<QueuePage, TriageError> {
    if !reader.kind.may_review_citizen_reports() {
        return Err(TriageError::NotAReviewer);
    }
    let limit = limit.clamp(1, MAX_PAGE);
    let mut reports = state.store.citizen_reports(review, after, limit + 1).await?;
    let next = if reports.len() > limit as usize {
        reports.truncate(limit as usize);
        reports.last().map(|r| r.seq)
    } else {
        None
    };
    if !reports.is_empty() {
        let ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
        state
            .store
            .append_audit(&[AuditEvent {
                at: state.now(),
                actor: reader.actor(),
                action: AuditAction::CitizenReportRead,
                subject: "citizen_reports".to_owned(),
                details: serde_json::json!({ "reports": ids }).to_string(),
            }])
            .await?;
    }
    Ok(QueuePage { reports, next })
}

/// Records a reviewer's decision and applies it to the index at once (other nodes follow
/// through the change feed).
pub async fn review(
    state: &Services,
    reviewer: &Partner,
    report_id: &str,
    outcome: CitizenReview,
    note: Option<&str>,
) -> Result<StoredReport, TriageError> {
    if !reviewer.kind.may_review_citizen_reports() {
        return Err(TriageError::NotAReviewer);
    }
    if outcome == CitizenReview::Unverified {
        return Err(TriageError::NotFound);
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE || n.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')) {
        return Err(TriageError::InvalidNote);
    }
    if report_id.is_empty() || report_id.len() > 64 {
        return Err(TriageError::NotFound);
    }
    match state
        .store
        .review_citizen_report(report_id, outcome, reviewer, note, state.now())
        .await?
    {
        ReviewOutcome::Reviewed(report) => {
            let mut index = state.index_mut();
            let seq = u32::try_from(report.seq).unwrap_or(u32::MAX);
            for named in &report.indicators {
                let key = index.key(named.kind, &named.value);
                index.review(key, seq, outcome);
            }
            Ok(report)
        }
        ReviewOutcome::AlreadyReviewed(report) => Err(TriageError::AlreadyReviewed(Box::new(report))),
        ReviewOutcome::NotFound => Err(TriageError::NotFound),
    }
}
