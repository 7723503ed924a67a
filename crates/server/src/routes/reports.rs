//! Reports: submit one or a batch, read one, retract one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::report::NewReport;
use vangnet_store::{InsertOutcome, Partner, RetractOutcome};

use crate::error::{ApiError, ErrorBody, ErrorDetail};
use vangnet_wire::json::from_value;

use crate::extract::{ApiJson, ApiPath, Caller, OptionalJson};
use crate::state::AppState;
use vangnet_wire::registry::{ReportIn, ReportOut};

/// The most reports one batch request may hold.
pub const MAX_REPORT_BATCH: usize = 1_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(submit))
        .route("/api/v1/reports/batch", post(submit_batch))
        .route("/api/v1/reports/{id}", get(read))
        .route("/api/v1/reports/{id}/retract", post(retract))
}

fn may_submit(partner: &Partner) -> Result<(), ApiError> {
    if partner.kind.may_submit_reports() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "partners of kind operator run the platform and do not file reports",
        ))
    }
}

fn conflict(existing_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "external_id_conflict",
        format!("you filed a different report with this external_id before (report {existing_id})"),
    )
    .with_field("external_id")
}

/// Submit a report.
///
/// Every indicator is normalised; the domain of every URL is added as an indicator of its
/// own. With an `external_id` the call is idempotent: sending the same report again answers
/// `200` with the stored one, sending a different report under the same id answers `409`.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "reports",
    request_body = ReportIn,
    responses(
        (status = 201, description = "Stored", body = ReportOut),
        (status = 200, description = "Stored before under this external_id", body = ReportOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Operators do not file reports", body = ErrorBody),
        (status = 409, description = "The external_id was used for a different report", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 422, description = "Invalid report; `field` names what is wrong", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(input): ApiJson<ReportIn>,
) -> Result<(StatusCode, Json<ReportOut>), ApiError> {
    may_submit(&partner)?;
    let report = input.into_new("", state.now()).inspect_err(|_| state.count_invalid_report())?;
    let outcome = state.file_reports(&partner, std::slice::from_ref(&report)).await?.pop();
    match outcome {
        Some(InsertOutcome::Created(stored)) => Ok((StatusCode::CREATED, Json(ReportOut::from(&stored)))),
        Some(InsertOutcome::Existing { id }) => {
            let stored = state.store.report(&id).await?.ok_or_else(|| ApiError::not_found("report"))?;
            Ok((StatusCode::OK, Json(ReportOut::from(&stored))))
        }
        Some(InsertOutcome::Conflict { existing_id }) => Err(conflict(&existing_id)),
        None => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the report was not stored",
        )),
    }
}

/// Up to 1,000 reports.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub reports: Vec<serde_json::Value>,
}

/// The outcome for one report of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// `created`, `existing`, `conflict` or `invalid`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// One result per report, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

/// Submit up to 1,000 reports at once.
///
/// Each report is checked on its own: an invalid one gets `status: invalid` with the error
/// (its `field` starts with `reports[i].`) and the valid ones are stored in one transaction.
#[utoipa::path(
    post,
    path = "/api/v1/reports/batch",
    tag = "reports",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per report, in order", body = BatchResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Operators do not file reports", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 422, description = "More than 1,000 reports, or a malformed request", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit_batch(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(batch): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    may_submit(&partner)?;
    if batch.reports.len() > MAX_REPORT_BATCH {
        return Err(ApiError::invalid(
            "batch_too_large",
            "reports",
            format!("at most {MAX_REPORT_BATCH} reports per request"),
        ));
    }
    let now = state.now();
    let mut results: Vec<Option<BatchResult>> = Vec::with_capacity(batch.reports.len());
    let mut valid = Vec::new();
    for (i, value) in batch.reports.into_iter().enumerate() {
        let prefix = format!("reports[{i}]");
        let parsed = from_value::<ReportIn>(value, &prefix).and_then(|input| input.into_new(&format!("{prefix}."), now));
        match parsed {
            Ok(report) => {
                results.push(None);
                valid.push((i, report));
            }
            Err(e) => {
                state.count_invalid_report();
                results.push(Some(BatchResult {
                    status: "invalid",
                    report: None,
                    error: Some(e.detail()),
                }));
            }
        }
    }
    let reports: Vec<NewReport> = valid.iter().map(|(_, r)| r.clone()).collect();
    let outcomes = if reports.is_empty() {
        Vec::new()
    } else {
        state.file_reports(&partner, &reports).await?
    };
    for ((i, _), outcome) in valid.iter().zip(outcomes) {
        results[*i] = Some(match outcome {
            InsertOutcome::Created(r) => BatchResult {
                status: "created",
                report: Some(ReportOut::from(&r)),
                error: None,
            },
            InsertOutcome::Existing { id } => {
                let stored = state.store.report(&id).await?.ok_or_else(|| ApiError::not_found("report"))?;
                BatchResult {
                    status: "existing",
                    report: Some(ReportOut::from(&stored)),
                    error: None,
                }
            }
            InsertOutcome::Conflict { existing_id } => BatchResult {
                status: "conflict",
                report: None,
                error: Some(conflict(&existing_id).body().error),
            },
        });
    }
    Ok(Json(BatchResponse {
        results: results.into_iter().flatten().collect(),
    }))
}

/// Read one report.
///
/// Only reports this partner may see under TLP are found; every read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report", body = ReportOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such report, or not one this partner may see", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReportOut>, ApiError> {
    let report = state
        .read_report(&partner, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("report"))?;
    Ok(Json(ReportOut::from(&report)))
}

/// Why a report is retracted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetractRequest {
    /// At most 500 characters.
    pub reason: Option<String>,
}

/// Checks a free-text reason: at most 500 characters, no control characters.
pub fn check_reason(reason: Option<&str>) -> Result<(), ApiError> {
    match reason {
        Some(r) if r.chars().count() > 500 => Err(ApiError::invalid(
            "invalid_request",
            "reason",
            "the reason is longer than 500 characters",
        )),
        Some(r) if !vangnet_core::report::is_plain_text(r) => Err(ApiError::invalid(
            "invalid_text",
            "reason",
            "the reason contains control characters",
        )),
        _ => Ok(()),
    }
}

/// Retract a report.
///
/// The report stays stored but leaves every count. Only the partner that filed it, or the
/// police, may retract it.
#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/retract",
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    request_body = Option<RetractRequest>,
    responses(
        (status = 200, description = "Retracted", body = ReportOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not the reporting partner nor the police", body = ErrorBody),
        (status = 404, description = "No such report, or not one this partner may see", body = ErrorBody),
        (status = 409, description = "Retracted before", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retract(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    OptionalJson(request): OptionalJson<RetractRequest>,
) -> Result<Json<ReportOut>, ApiError> {
    check_reason(request.reason.as_deref())?;
    match state.retract_report(&partner, &id, request.reason.as_deref()).await? {
        RetractOutcome::Retracted(report) => Ok(Json(ReportOut::from(&report))),
        RetractOutcome::AlreadyRetracted(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_retracted",
            "this report was retracted before",
        )),
        RetractOutcome::NotFound => Err(ApiError::not_found("report")),
        RetractOutcome::NotAllowed => Err(ApiError::forbidden(
            "only the partner that filed a report, or the police, may retract it",
        )),
    }
}
