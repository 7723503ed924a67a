//! `GET /api/v1/indicators/{kind}/{value}`: the full record of one indicator, with the reports
//! this partner may see; and the review status of an indicator (police and operators).

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::Indicator;
use vangnet_core::nl_banks::bank_by_code;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;
use vangnet_wire::registry::{CheckResult, ReportOut, parse_kind};

/// Report details returned with a record, at most.
const MAX_DETAILS: usize = 1_000;
const DEFAULT_DETAILS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/indicators/{kind}/{value}", get(read))
        .route("/api/v1/indicators/{kind}/{value}/status", put(set_status))
}

/// Facts recorded with an indicator.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorFactsOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The IBAN's bank code (`ABNA` for NL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_code: Option<String>,
    /// The bank's name, for Dutch IBANs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_name: Option<String>,
    /// The host mixes letters of several scripts (a homoglyph risk).
    pub mixed_script: bool,
    /// The host is written in non-Latin letters that look like Latin ones.
    pub confusable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unicode_host: Option<String>,
}

/// The full record of one indicator, as this partner may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorRecordOut {
    #[serde(flatten)]
    pub summary: CheckResult,
    /// The review status: `active`, `disputed`, `cleared` or `expired`.
    pub indicator_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub facts: IndicatorFactsOut,
    /// The reports this partner may see, newest first.
    pub report_details: Vec<ReportOut>,
    /// True when there are more reports than `limit`.
    pub report_details_truncated: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    /// How many reports to include (1 to 1,000; default 100).
    pub limit: Option<usize>,
}

fn parse_path(kind: &str, value: &str) -> Result<Indicator, ApiError> {
    let kind = parse_kind(Some(kind), "kind")?;
    Indicator::parse(kind, value).map_err(|e| ApiError::indicator(&e, "value"))
}

/// The full record of an indicator.
///
/// The value is normalised first (percent-encode it in the path). The record counts only
/// reports this partner may see under TLP, and lists them; every read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/indicators/{kind}/{value}",
    tag = "checks",
    params(
        ("kind" = String, Path, description = "iban, phone, url, domain, email, crypto or handle"),
        ("value" = String, Path, description = "The value, percent-encoded"),
        RecordQuery,
    ),
    responses(
        (status = 200, description = "The record", body = IndicatorRecordOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 422, description = "Not a valid indicator of that kind", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath((kind, value)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<RecordQuery>,
) -> Result<Json<IndicatorRecordOut>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_DETAILS);
    if !(1..=MAX_DETAILS).contains(&limit) {
        return Err(ApiError::invalid("invalid_parameter", "limit", "limit must be between 1 and 1000"));
    }
    let indicator = parse_path(&kind, &value)?;
    let viewer = partner.viewer();
    let now = state.now();
    let (view, seqs) = {
        let index = state.index();
        let key = index.key_of(&indicator);
        let view = index.view(key, &viewer, now, &state.settings.scoring);
        let seqs = index.visible_reports(key, &viewer, now, &state.settings.scoring);
        (view, seqs)
    };
    let truncated = seqs.len() > limit;
    let wanted: Vec<i64> = seqs.iter().take(limit).map(|s| i64::from(*s)).collect();
    let reports = if wanted.is_empty() {
        Vec::new()
    } else {
        state.store.reports_by_seq(&wanted).await?
    };
    let row = state.store.indicator(indicator.kind(), indicator.canonical()).await?;
    let report_ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    state
        .store
        .append_audit(&[AuditEvent {
            at: now,
            actor: partner.actor(),
            action: AuditAction::IndicatorRead,
            subject: state.pseudonym(indicator.kind(), indicator.canonical()),
            details: serde_json::json!({ "reports": report_ids }).to_string(),
        }])
        .await?;
    let facts = indicator.facts();
    let bank_name = match (&facts.country, &facts.bank_code) {
        (Some(country), Some(code)) if country == "NL" => bank_by_code(code).map(|b| b.name.to_owned()),
        _ => None,
    };
    Ok(Json(IndicatorRecordOut {
        summary: CheckResult::from_view(&indicator, &view),
        indicator_status: view.indicator_status.as_str().to_owned(),
        status_reason: row.and_then(|r| r.status_reason),
        facts: IndicatorFactsOut {
            country: facts.country,
            bank_code: facts.bank_code,
            bank_name,
            mixed_script: facts.mixed_script,
            confusable: facts.confusable,
            unicode_host: facts.unicode_host,
        },
        report_details: reports.iter().map(ReportOut::from).collect(),
        report_details_truncated: truncated,
    }))
}

/// A review decision about an indicator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `active`, `disputed` (the holder objects; shown with that caveat) or `cleared`
    /// (wrongly listed; never shown as a hit again).
    #[schema(example = "disputed")]
    pub status: String,
    /// Why, at most 500 characters.
    pub reason: Option<String>,
}

/// The status after the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    pub kind: String,
    pub value: String,
    pub indicator_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// Set the review status of an indicator (police and operators).
#[utoipa::path(
    put,
    path = "/api/v1/indicators/{kind}/{value}/status",
    tag = "checks",
    params(
        ("kind" = String, Path, description = "iban, phone, url, domain, email, crypto or handle"),
        ("value" = String, Path, description = "The value, percent-encoded"),
    ),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "The new status", body = StatusResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only police and operators review indicators", body = ErrorBody),
        (status = 409, description = "The indicator has an open dispute, which decides its status (`dispute_open`)", body = ErrorBody),
        (status = 422, description = "Invalid indicator or status", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn set_status(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath((kind, value)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    if !partner.kind.may_set_indicator_status() {
        return Err(ApiError::forbidden("only the police and platform operators review indicators"));
    }
    let indicator = parse_path(&kind, &value)?;
    let status = match IndicatorStatus::from_key(&request.status) {
        Some(s @ (IndicatorStatus::Active | IndicatorStatus::Disputed | IndicatorStatus::Cleared)) => s,
        _ => {
            return Err(ApiError::invalid(
                "invalid_status",
                "status",
                "status must be one of: active, disputed, cleared",
            ));
        }
    };
    super::reports::check_reason(request.reason.as_deref())?;
    // An open dispute decides the status; setting it beside the dispute would be undone (or
    // undo the reviewer) at the dispute's next move.
    let open = state.store.disputes_of(indicator.kind(), indicator.canonical()).await?;
    if let Some(dispute) = open.iter().find(|d| d.state == vangnet_core::dispute::DisputeState::Open) {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "dispute_open",
            format!("the indicator has an open dispute: decide dispute {} instead", dispute.id),
        ));
    }
    state
        .set_indicator_status(&partner, &indicator, status, request.reason.as_deref())
        .await?;
    Ok(Json(StatusResponse {
        kind: indicator.kind().as_str().to_owned(),
        value: indicator.canonical().to_owned(),
        indicator_status: status.as_str().to_owned(),
        status_reason: request.reason,
    }))
}
