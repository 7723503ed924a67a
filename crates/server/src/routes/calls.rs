//! Call screening for telecom providers and the on-call signal for banks (API.md
//! "Interventions"): `POST /api/v1/calls/events`, `GET /api/v1/signals/on-call/{subscriber_ref}`
//! and the subscribers' opt-out. The call lists it screens against are `call_lists.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::indicator::PhoneNumber;
use vangnet_core::screening::calls::{CallEventKind, Ingress};
use vangnet_core::{PartnerKind, Timestamp};
use vangnet_store::Partner;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::screening::calls::{CallInput, is_subscriber_ref};
use crate::state::AppState;

/// The longest call id.
pub const MAX_CALL_ID: usize = 128;

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

/// One call event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallEventIn {
    #[schema(example = "call-8a7f")]
    pub call_id: String,
    /// `start` or `end`.
    pub event: String,
    /// When it happened (RFC 3339); the time of receipt when left out.
    pub at: Option<String>,
    /// The caller number as presented.
    #[schema(example = "+31201234567")]
    pub caller: String,
    #[schema(example = "+31612345678")]
    pub callee: String,
    /// `domestic` or `international`.
    pub ingress: String,
    /// The provider vouches that the call came from the caller number's owner (a protected
    /// number calling out through its own trunk).
    #[serde(default)]
    pub verified_origin: bool,
}

/// Why a call got its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallReasonOut {
    /// `caller_protected_number`, `spoofed_domestic_number`, `caller_reported` or
    /// `caller_reported_disputed`.
    pub code: String,
    pub message: String,
}

/// The decision for one call event.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallDecisionOut {
    pub call_id: String,
    /// `allow`, `flag` or `block`.
    pub decision: String,
    pub reasons: Vec<CallReasonOut>,
}

/// Checks a JSON call event; `prefix` names its place in a larger message.
pub fn validate(input: &CallEventIn, prefix: &str, now: Timestamp) -> Result<CallInput, ApiError> {
    let field = |name: &str| format!("{prefix}{name}");
    if input.call_id.is_empty() || input.call_id.len() > MAX_CALL_ID || !input.call_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "invalid_call_id",
            field("call_id"),
            format!("call_id must be 1 to {MAX_CALL_ID} printable characters"),
        ));
    }
    let kind = match input.event.as_str() {
        "start" => CallEventKind::Start,
        "end" => CallEventKind::End,
        _ => return Err(ApiError::invalid("invalid_parameter", field("event"), "`start` or `end`")),
    };
    let ingress = match input.ingress.as_str() {
        "domestic" => Ingress::Domestic,
        "international" => Ingress::International,
        _ => {
            return Err(ApiError::invalid(
                "invalid_parameter",
                field("ingress"),
                "`domestic` or `international`",
            ));
        }
    };
    let phone = |value: &str, name: &str| {
        PhoneNumber::parse(value).map_err(|e| ApiError::invalid("invalid_phone", field(name), format!("not a valid phone number: {e}")))
    };
    let at = match &input.at {
        None => now,
        Some(t) => Timestamp::parse_rfc3339(t).map_err(|e| ApiError::invalid("invalid_timestamp", field("at"), e.to_string()))?,
    };
    Ok(CallInput {
        call_id: input.call_id.clone(),
        kind,
        at,
        caller: phone(&input.caller, "caller")?,
        callee: phone(&input.callee, "callee")?,
        ingress,
        verified_origin: input.verified_origin,
    })
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
    let verdict = state.calls.decide(&state, &partner, &call);
    Ok(Json(CallDecisionOut::from_verdict(&call.call_id, verdict)))
}

impl CallDecisionOut {
    pub fn from_verdict(call_id: &str, verdict: vangnet_core::screening::calls::CallVerdict) -> CallDecisionOut {
        CallDecisionOut {
            call_id: call_id.to_owned(),
            decision: verdict.decision.as_str().to_owned(),
            reasons: verdict
                .reasons
                .into_iter()
                .map(|r| CallReasonOut {
                    code: r.code.to_owned(),
                    message: r.message,
                })
                .collect(),
        }
    }
}

/// The on-call signal about one subscriber.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnCallOut {
    pub subscriber_ref: String,
    /// The subscriber is on a call right now (never true for one who opted out).
    pub on_call: bool,
    /// One of the calls is with a caller that is flagged, or not known to this subscriber
    /// (no earlier completed call) and not a vouched protected number.
    pub unverified_caller: bool,
}

fn subscriber(value: &str) -> Result<String, ApiError> {
    if is_subscriber_ref(value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(
            "invalid_subscriber_ref",
            "subscriber_ref",
            "a subscriber_ref is 64 lower-case hex digits: HMAC-SHA-256 of the E.164 number with the shared key",
        ))
    }
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
    let now = state.now();
    state.store.set_opt_out(&reference, opted_out, now).await?;
    state.calls.set_opt_out(&reference, opted_out);
    state
        .store
        .append_audit(&[AuditEvent {
            at: now,
            actor: partner.actor(),
            action: AuditAction::SignalOptOut,
            subject: format!("subscriber:{}", &reference[..16]),
            details: format!("{{\"opted_out\":{opted_out}}}"),
        }])
        .await?;
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
