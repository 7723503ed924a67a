//! The triage queue of citizen reports for the fraud helpdesk and the police:
//! `GET /api/v1/citizen-reports` and `POST /api/v1/citizen-reports/{id}/review`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vangnet_core::index::CitizenReview;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;
use vangnet_services::citizen_reports::{self, MAX_NOTE, MAX_PAGE, TriageError};
use vangnet_wire::registry::ReportOut;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/citizen-reports", get(list))
        .route("/api/v1/citizen-reports/{id}/review", post(review))
}

impl From<TriageError> for ApiError {
    fn from(e: TriageError) -> ApiError {
        match e {
            TriageError::NotAReviewer => ApiError::forbidden(e.to_string()),
            TriageError::NotFound => ApiError::not_found("citizen report"),
            TriageError::AlreadyReviewed(_) => ApiError::new(
                StatusCode::CONFLICT,
                "already_reviewed",
                "a reviewer decided about this citizen report before; the first decision stands",
            ),
            TriageError::InvalidNote => ApiError::invalid("invalid_text", "note", e.to_string()),
            TriageError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `unverified` (the default: the queue), `verified` or `rejected`.
    pub state: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Reports per page, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// A page of citizen reports, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueOut {
    pub items: Vec<ReportOut>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

/// A reviewer's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    /// `verified` (the report counts like a partner's, with the citizen weight) or `rejected`
    /// (it counts nowhere).
    #[schema(example = "verified")]
    pub outcome: String,
    /// Why, at most 1,000 characters; not shown to other partners' checks.
    pub note: Option<String>,
}

fn review_state(value: Option<&str>, field: &str) -> Result<CitizenReview, ApiError> {
    match value {
        None => Ok(CitizenReview::Unverified),
        Some(v) => CitizenReview::from_key(v)
            .ok_or_else(|| ApiError::invalid("invalid_parameter", field, "one of: unverified, verified, rejected")),
    }
}

/// The triage queue: citizen reports from the public web form (the helpdesk and the police).
///
/// Unverified citizen reports inform partners but decide nothing: they carry no weight in any
/// score, check status, payment or call decision until a reviewer verifies them. The list holds
/// the submitter's own words; every read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/citizen-reports",
    tag = "reports",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of citizen reports, oldest first", body = QueueOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the fraud helpdesk and the police", body = ErrorBody),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Json<QueueOut>, ApiError> {
    let review = review_state(query.state.as_deref(), "state")?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("invalid_parameter", "limit", "limit must be between 1 and 200"));
    }
    let after = match query.after.as_deref() {
        None => 0,
        Some(a) => a
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::invalid("invalid_parameter", "after", "pass the `next` of the previous page"))?,
    };
    let page = citizen_reports::queue(&state, &partner, review, after, limit).await?;
    Ok(Json(QueueOut {
        items: page.reports.iter().map(ReportOut::from).collect(),
        next: page.next.map(|n| n.to_string()),
    }))
}

/// Verify or reject a citizen report (the helpdesk and the police). The first decision is final.
#[utoipa::path(
    post,
    path = "/api/v1/citizen-reports/{id}/review",
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    request_body = ReviewIn,
    responses(
        (status = 200, description = "Reviewed; the report with its review", body = ReportOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the fraud helpdesk and the police", body = ErrorBody),
        (status = 404, description = "No such citizen report", body = ErrorBody),
        (status = 409, description = "Reviewed before", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid outcome or note", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn review(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ReviewIn>,
) -> Result<Json<ReportOut>, ApiError> {
    if !partner.kind.may_review_citizen_reports() {
        return Err(TriageError::NotAReviewer.into());
    }
    let outcome = match CitizenReview::from_key(&input.outcome) {
        Some(o @ (CitizenReview::Verified | CitizenReview::Rejected)) => o,
        _ => return Err(ApiError::invalid("invalid_parameter", "outcome", "one of: verified, rejected")),
    };
    if input.note.as_deref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(ApiError::invalid("invalid_text", "note", "at most 1,000 characters"));
    }
    let report = citizen_reports::review(&state, &partner, &id, outcome, input.note.as_deref()).await?;
    Ok(Json(ReportOut::from(&report)))
}
