//! Disputes (API.md "Disputes"): `POST /api/v1/disputes`, `GET /api/v1/disputes`,
//! `GET /api/v1/disputes/figures`, `GET /api/v1/disputes/{id}`,
//! `POST /api/v1/disputes/{id}/decision`, `POST /api/v1/disputes/{id}/withdraw`; the objections
//! from the public form `GET /api/v1/dispute-requests`, `GET`/`POST /api/v1/dispute-requests/{id}`;
//! and the reviews of cleared indicators `GET /api/v1/clearance-reviews`,
//! `POST /api/v1/clearance-reviews/{id}`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vangnet_core::dispute::{DisputeMove, DisputeState, RequestState};
use vangnet_services::dispute_requests::{self, Accepted};
use vangnet_services::disputes::{self, Scope};
use vangnet_wire::disputes::{
    ClearanceDecisionIn, ClearanceReviewOut, DecisionIn, DisputeFiguresOut, DisputeIn, DisputeOut, ObjectionDecisionIn, ObjectionOut,
    WithdrawIn, dispute_out,
};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/disputes", post(open).get(list))
        .route("/api/v1/disputes/figures", get(figures))
        .route("/api/v1/disputes/{id}", get(read))
        .route("/api/v1/disputes/{id}/decision", post(decide))
        .route("/api/v1/disputes/{id}/withdraw", post(withdraw))
        .route("/api/v1/dispute-requests", get(list_requests))
        .route("/api/v1/dispute-requests/{id}", get(read_request).post(decide_request))
        .route("/api/v1/clearance-reviews", get(list_clearance))
        .route("/api/v1/clearance-reviews/{id}", post(close_clearance))
}

/// Answers that carry personal data are not kept by caches.
use super::NO_STORE;

/// The default and largest page of a list.
const DEFAULT_PAGE: u32 = 100;

fn page(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=disputes::MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid("invalid_parameter", "limit", "limit must be between 1 and 500"))
    }
}

/// Open a dispute on behalf of the person concerned.
///
/// The indicator answers `disputed` in every check (partner and public) at once on this node
/// and within one change-feed cycle on the others. Who may open: the holder's own bank or PSP
/// (for an IBAN: the bank the PNBF directory names for its bank code), the police, the fraud
/// helpdesk, victim support and the operator.
#[utoipa::path(post, path = "/api/v1/disputes", tag = "disputes", request_body = DisputeIn,
    responses(
        (status = 201, description = "Opened: `state` is `open`", body = DisputeOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "This kind does not open disputes (`forbidden`), or the IBAN is another bank's (`not_holders_bank`)", body = ErrorBody),
        (status = 409, description = "The indicator has an open dispute already (`dispute_open`; the message names it)", body = ErrorBody),
        (status = 422, description = "Invalid indicator, or a reason that is missing (`missing_reason`), too long (`reason_too_long`) or not plain text (`invalid_text`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn open(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(input): ApiJson<DisputeIn>,
) -> Result<(StatusCode, [(header::HeaderName, &'static str); 1], Json<DisputeOut>), ApiError> {
    let indicator = input.indicator()?;
    let dispute = disputes::open(&state, &partner, &indicator, &input.reason).await?;
    let partners = state.store.partners().await?;
    Ok((StatusCode::CREATED, NO_STORE, Json(dispute_out(&dispute, &partners, None))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `open`, `upheld`, `rejected` or `withdrawn`; every state when absent.
    pub state: Option<String>,
    /// `queue` (the disputes you decide; the default for deciders) or `own` (those you opened;
    /// the default for everyone else).
    pub scope: Option<String>,
    /// The `id` of the last dispute of the previous page.
    pub after: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// List disputes, oldest first.
///
/// Deciders (the police and the operator, or the kinds configured for a fraud type) see the
/// queue of disputes they decide; every other partner the disputes it opened. Overdue ones are
/// marked `overdue`, those whose reminder is due `due_soon`. Every dispute listed is audited as
/// read.
#[utoipa::path(get, path = "/api/v1/disputes", tag = "disputes", params(ListQuery),
    responses(
        (status = 200, description = "The disputes", body = [DisputeOut]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`scope=queue` for a partner that decides no disputes", body = ErrorBody),
        (status = 422, description = "Unknown state or scope, or limit out of range (`invalid_parameter`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<Vec<DisputeOut>>), ApiError> {
    let dispute_state = q
        .state
        .as_deref()
        .map(|s| {
            DisputeState::from_key(s)
                .ok_or_else(|| ApiError::invalid("invalid_parameter", "state", "state must be open, upheld, rejected or withdrawn"))
        })
        .transpose()?;
    let scope = match q.scope.as_deref() {
        None => None,
        Some("own") => Some(Scope::Own),
        Some("queue") => Some(Scope::Queue),
        Some(_) => return Err(ApiError::invalid("invalid_parameter", "scope", "scope must be own or queue")),
    };
    let limit = page(q.limit)?;
    let found = disputes::list(&state, &partner, scope, dispute_state, q.after.as_deref(), limit).await?;
    let partners = state.store.partners().await?;
    Ok((NO_STORE, Json(found.iter().map(|d| dispute_out(d, &partners, None)).collect())))
}

/// A dispute with its history, as this partner may see it (its opener, its deciders and the
/// operator; 404 for everyone else). Audited.
#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes",
    params(("id" = String, Path, description = "The dispute id")),
    responses(
        (status = 200, description = "The dispute with its `events`", body = DisputeOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such dispute, or not one this partner may see", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<DisputeOut>), ApiError> {
    let (dispute, events) = disputes::read(&state, &partner, &id).await?;
    let partners = state.store.partners().await?;
    Ok((NO_STORE, Json(dispute_out(&dispute, &partners, Some(&events)))))
}

/// Decide a dispute: `upheld` (the indicator becomes `cleared` everywhere and is never a hit
/// again) or `rejected` (it is `active` again). Only the deciders of the indicator's main fraud
/// type (by default the police and the operator).
#[utoipa::path(post, path = "/api/v1/disputes/{id}/decision", tag = "disputes", request_body = DecisionIn,
    params(("id" = String, Path, description = "The dispute id")),
    responses(
        (status = 200, description = "The dispute after the decision", body = DisputeOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "This partner does not decide disputes of this kind", body = ErrorBody),
        (status = 404, description = "No such dispute, or not one this partner may see", body = ErrorBody),
        (status = 409, description = "Decided or withdrawn already (`transition_not_allowed`), or moved since `version` (`dispute_changed`)", body = ErrorBody),
        (status = 422, description = "Unknown outcome (`invalid_outcome`) or an invalid reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn decide(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<DecisionIn>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<DisputeOut>), ApiError> {
    let mv = input.outcome()?;
    let dispute = disputes::apply(&state, &partner, &id, mv, &input.reason, input.version).await?;
    let partners = state.store.partners().await?;
    Ok((NO_STORE, Json(dispute_out(&dispute, &partners, None))))
}

/// Withdraw a dispute (its opener, or the operator): the indicator is `active` again.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/withdraw", tag = "disputes", request_body = WithdrawIn,
    params(("id" = String, Path, description = "The dispute id")),
    responses(
        (status = 200, description = "The dispute, `withdrawn`", body = DisputeOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the opener or the operator withdraws", body = ErrorBody),
        (status = 404, description = "No such dispute, or not one this partner may see", body = ErrorBody),
        (status = 409, description = "Decided or withdrawn already (`transition_not_allowed`), or moved since `version` (`dispute_changed`)", body = ErrorBody),
        (status = 422, description = "An invalid reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn withdraw(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<WithdrawIn>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<DisputeOut>), ApiError> {
    let dispute = disputes::apply(&state, &partner, &id, DisputeMove::Withdraw, &input.reason, input.version).await?;
    let partners = state.store.partners().await?;
    Ok((NO_STORE, Json(dispute_out(&dispute, &partners, None))))
}

/// The dispute figures: opened, open, overdue, upheld, rejected, withdrawn, decided late and
/// the median days to a decision (the operator and the deciders).
#[utoipa::path(get, path = "/api/v1/disputes/figures", tag = "disputes",
    responses(
        (status = 200, description = "The figures over every dispute", body = DisputeFiguresOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the operator and the deciders", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn figures(State(state): State<AppState>, Caller(partner): Caller) -> Result<Json<DisputeFiguresOut>, ApiError> {
    let figures = disputes::figures(&state, &partner).await?;
    Ok(Json(DisputeFiguresOut::from(&figures)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// `pending` (the default), `accepted` or `declined`.
    pub state: Option<String>,
    /// The `id` of the last objection of the previous page.
    pub after: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// The objections people sent through the public form `/bezwaar`, oldest first (the fraud
/// helpdesk, victim support, the police and the operator). They hold the person's own words
/// and contact details: every read is audited. An objection changes nothing by itself.
#[utoipa::path(get, path = "/api/v1/dispute-requests", tag = "disputes", params(RequestQuery),
    responses(
        (status = 200, description = "The objections", body = [ObjectionOut]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not a reviewer of objections", body = ErrorBody),
        (status = 422, description = "Unknown state, or limit out of range (`invalid_parameter`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_requests(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<Vec<ObjectionOut>>), ApiError> {
    let request_state = q
        .state
        .as_deref()
        .map(|s| {
            RequestState::from_key(s)
                .ok_or_else(|| ApiError::invalid("invalid_parameter", "state", "state must be pending, accepted or declined"))
        })
        .transpose()?;
    let rows = dispute_requests::list(&state, &partner, request_state, q.after.as_deref(), page(q.limit)?).await?;
    Ok((NO_STORE, Json(rows.iter().map(ObjectionOut::from).collect())))
}

/// One objection from the public form (reviewers of objections). Audited.
#[utoipa::path(get, path = "/api/v1/dispute-requests/{id}", tag = "disputes",
    params(("id" = String, Path, description = "The objection's id (the person's reference)")),
    responses(
        (status = 200, description = "The objection", body = ObjectionOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not a reviewer of objections", body = ErrorBody),
        (status = 404, description = "No such objection", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read_request(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<ObjectionOut>), ApiError> {
    let row = dispute_requests::read(&state, &partner, &id).await?;
    Ok((NO_STORE, Json(ObjectionOut::from(&row))))
}

/// What deciding an objection did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionDecisionOut {
    /// `accepted` or `declined`.
    pub state: String,
    /// The dispute it became (a new one, or the indicator's open one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute_id: Option<String>,
    /// The indicator had an open dispute already, which the objection joined.
    pub joined_open_dispute: bool,
}

/// Accept an objection (a dispute opens in your partner's name, with the person's reason; the
/// indicator answers `disputed`) or decline it. The first decision stands.
#[utoipa::path(post, path = "/api/v1/dispute-requests/{id}", tag = "disputes", request_body = ObjectionDecisionIn,
    params(("id" = String, Path, description = "The objection's id")),
    responses(
        (status = 200, description = "Decided", body = ObjectionDecisionOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not a reviewer of objections", body = ErrorBody),
        (status = 404, description = "No such objection", body = ErrorBody),
        (status = 409, description = "Decided before (`already_reviewed`)", body = ErrorBody),
        (status = 422, description = "Unknown decision (`invalid_parameter`) or an invalid reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn decide_request(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ObjectionDecisionIn>,
) -> Result<Json<ObjectionDecisionOut>, ApiError> {
    match input.decision.as_str() {
        "accept" => {
            let outcome = dispute_requests::accept(&state, &partner, &id, &input.reason).await?;
            let (dispute_id, joined) = match outcome {
                Accepted::Opened(d) => (d.row.id, false),
                Accepted::Joined { dispute_id } => (dispute_id, true),
            };
            Ok(Json(ObjectionDecisionOut {
                state: RequestState::Accepted.as_str().to_owned(),
                dispute_id: Some(dispute_id),
                joined_open_dispute: joined,
            }))
        }
        "decline" => {
            dispute_requests::decline(&state, &partner, &id, &input.reason).await?;
            Ok(Json(ObjectionDecisionOut {
                state: RequestState::Declined.as_str().to_owned(),
                dispute_id: None,
                joined_open_dispute: false,
            }))
        }
        _ => Err(ApiError::invalid(
            "invalid_parameter",
            "decision",
            "decision must be accept or decline",
        )),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClearanceQuery {
    /// `open` (the default) or `all`.
    pub state: Option<String>,
    /// The `id` of the last review of the previous page.
    pub after: Option<i64>,
    /// 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// Cleared indicators that a new report named (the police and the operator). A new report
/// never makes a cleared indicator a hit again by itself; a human decides here.
#[utoipa::path(get, path = "/api/v1/clearance-reviews", tag = "disputes", params(ClearanceQuery),
    responses(
        (status = 200, description = "The reviews, oldest first", body = [ClearanceReviewOut]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the police and the operator", body = ErrorBody),
        (status = 422, description = "Unknown state, or limit out of range (`invalid_parameter`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_clearance(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(q): ApiQuery<ClearanceQuery>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<Vec<ClearanceReviewOut>>), ApiError> {
    let open_only = match q.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => return Err(ApiError::invalid("invalid_parameter", "state", "state must be open or all")),
    };
    let rows = dispute_requests::clearance_reviews(&state, &partner, open_only, q.after, page(q.limit)?).await?;
    Ok((NO_STORE, Json(rows.iter().map(ClearanceReviewOut::from).collect())))
}

/// Keep a cleared indicator cleared, or make it active again (the police and the operator).
#[utoipa::path(post, path = "/api/v1/clearance-reviews/{id}", tag = "disputes", request_body = ClearanceDecisionIn,
    params(("id" = i64, Path, description = "The review's id")),
    responses(
        (status = 200, description = "The closed review", body = ClearanceReviewOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the police and the operator", body = ErrorBody),
        (status = 404, description = "No such review", body = ErrorBody),
        (status = 409, description = "Closed before (`already_reviewed`)", body = ErrorBody),
        (status = 422, description = "Unknown outcome (`invalid_outcome`) or an invalid reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn close_clearance(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ClearanceDecisionIn>,
) -> Result<Json<ClearanceReviewOut>, ApiError> {
    let Ok(seq) = id.parse::<i64>() else {
        return Err(ApiError::not_found("review"));
    };
    let outcome = input.outcome()?;
    let row = dispute_requests::close_clearance_review(&state, &partner, seq, outcome, &input.reason).await?;
    Ok(Json(ClearanceReviewOut::from(&row)))
}
