//! `POST /api/v1/checks`: look up to 1,000 indicators at once, answered from the in-memory
//! index without a database round trip (`Services::check_for_partner`), which audits the hits.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::indicator::Indicator;

use vangnet_wire::WireError;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;
use vangnet_wire::registry::{CheckResult, IndicatorIn, parse_kind};

/// The most indicators one check request may hold.
pub const MAX_CHECK_BATCH: usize = 1_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/checks", post(check))
}

/// Indicators to check, at most 1,000.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub indicators: Vec<IndicatorIn>,
}

/// One result per indicator, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    pub results: Vec<CheckResult>,
}

/// Check indicators against the registry.
///
/// Each value is normalised (the kind is detected when left out) and looked up. A partner
/// sees only what TLP allows it to see: counts from reports it may not see are left out. One
/// invalid value gives a result with `status: invalid` and does not fail the batch.
#[utoipa::path(
    post,
    path = "/api/v1/checks",
    tag = "checks",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "One result per indicator, in order", body = CheckResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 422, description = "More than 1,000 indicators, or a malformed request", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn check(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(request): ApiJson<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    if request.indicators.len() > MAX_CHECK_BATCH {
        return Err(ApiError::invalid(
            "batch_too_large",
            "indicators",
            format!("at most {MAX_CHECK_BATCH} indicators per request"),
        ));
    }
    let parsed: Vec<Result<Indicator, (Option<vangnet_core::IndicatorKind>, WireError)>> = request
        .indicators
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let prefix = format!("indicators[{i}]");
            let kind = parse_kind(input.kind.as_deref(), &format!("{prefix}.kind")).map_err(|e| (None, e))?;
            Indicator::parse(kind, &input.value).map_err(|e| (kind, WireError::indicator(&e, format!("{prefix}.value"))))
        })
        .collect();
    let results = state
        .check_for_partner(&partner, parsed)
        .await
        .into_iter()
        .zip(&request.indicators)
        .map(|(checked, input)| match checked {
            Ok((indicator, view)) => CheckResult::from_view(&indicator, &view),
            Err((kind, error)) => CheckResult::invalid(kind, &input.value, &error),
        })
        .collect();
    Ok(Json(CheckResponse { results }))
}
