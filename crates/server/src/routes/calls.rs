//! Call screening for telecom providers and the on-call signal for banks (API.md
//! "Interventions"): `POST /api/v1/calls/events`, `GET /api/v1/signals/on-call/{subscriber_ref}`
//! and the subscribers' opt-out. The call lists it screens against are `call_lists.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use vangnet_core::PartnerKind;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_store::Partner;
use vangnet_wire::calls::{CallDecisionOut, CallEventIn, OnCallOut, subscriber, validate};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calls/events", post(event))
        .route("/api/v1/signals/on-call/{subscriber_ref}", get(on_call))
        .route("/api/v1/signals/opt-out/{subscriber_ref}", put(opt_out).delete(opt_in))
}

pub(super) fn only(partner: &Partner, kinds: &[PartnerKind], what: &str) -> Result<(), ApiError> {
    if kinds.contains(&partner.kind) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only {what}")))
    }
}

/// Screen a call event.
///
/// `start` events get a decision: `block` for a protected number presented by someone else
/// or a Dutch number arriving from abroad (spoofing), `flag` for a caller in the registry,
/// else `allow`. `end` events close the call (always `allow`).
#[utoipa::path(
    post,
    path = "/api/v1/calls/events",
    tag = "interventions",
    request_body = CallEventIn,
    responses(
        (status = 200, description = "The decision", body = CallDecisionOut),
        (status = 403, description = "Only telecom providers", body = ErrorBody),
        (status = 422, description = "Invalid event; `field` names what is wrong", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn event(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(input): ApiJson<CallEventIn>,
) -> Result<Json<CallDecisionOut>, ApiError> {
    only(&partner, &[PartnerKind::Telecom], "telecom providers send call events")?;
    let call = validate(&input, "", state.now())?;
    let verdict = state.decide_call(&partner, &call);
    Ok(Json(CallDecisionOut::from_verdict(&call.call_id, verdict)))
}

/// Is this subscriber on a call with an unverified caller right now? (Banks; audited.)
#[utoipa::path(
    get,
    path = "/api/v1/signals/on-call/{subscriber_ref}",
    tag = "interventions",
    params(("subscriber_ref" = String, Path, description = "HMAC-SHA-256 (hex) of the E.164 number with the key banks and telecom providers share")),
    responses(
        (status = 200, description = "The signal", body = OnCallOut),
        (status = 403, description = "Only banks", body = ErrorBody),
        (status = 422, description = "Not a subscriber reference", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn on_call(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(reference): ApiPath<String>,
) -> Result<Json<OnCallOut>, ApiError> {
    only(&partner, &[PartnerKind::Bank], "banks ask for the on-call signal")?;
    let reference = subscriber(&reference)?;
    let now = state.now();
    let signal = state.calls.on_call(&reference, now);
    state
        .store
        .append_audit(&[AuditEvent {
            at: now,
            actor: partner.actor(),
            action: AuditAction::SignalRead,
            subject: format!("subscriber:{}", &reference[..16]),
            details: format!(
                "{{\"on_call\":{},\"unverified_caller\":{}}}",
                signal.on_call, signal.unverified_caller
            ),
        }])
        .await?;
    Ok(Json(OnCallOut {
        subscriber_ref: reference,
        on_call: signal.on_call,
        unverified_caller: signal.unverified_caller,
    }))
}

async fn set_opt_out(state: &AppState, partner: &Partner, reference: &str, opted_out: bool) -> Result<StatusCode, ApiError> {
    only(
        partner,
        &[PartnerKind::Telecom],
        "telecom providers record their subscribers' opt-out",
    )?;
    let reference = subscriber(reference)?;
    state.set_opt_out(partner, &reference, opted_out).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A subscriber opts out of the on-call signal (telecom providers).
#[utoipa::path(
    put,
    path = "/api/v1/signals/opt-out/{subscriber_ref}",
    tag = "interventions",
    params(("subscriber_ref" = String, Path, description = "The subscriber's reference")),
    responses((status = 204, description = "Opted out"), (status = 403, description = "Only telecom providers", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn opt_out(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(reference): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    set_opt_out(&state, &partner, &reference, true).await
}

/// A subscriber withdraws the opt-out.
#[utoipa::path(
    delete,
    path = "/api/v1/signals/opt-out/{subscriber_ref}",
    tag = "interventions",
    params(("subscriber_ref" = String, Path, description = "The subscriber's reference")),
    responses((status = 204, description = "Opted in again"), (status = 403, description = "Only telecom providers", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn opt_in(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(reference): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    set_opt_out(&state, &partner, &reference, false).await
}
