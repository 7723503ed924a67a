//! The call wire shapes: one call event as JSON (`POST /api/v1/calls/events`, the stream subject
//! `P.calls.in`), the decision as answered and published, and the on-call signal; with their
//! validation into the call-screening service's input.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::Timestamp;
use vangnet_core::indicator::PhoneNumber;
use vangnet_core::screening::calls::{CallEventKind, CallVerdict, Ingress};
use vangnet_services::screening::calls::{CallInput, is_subscriber_ref};

use crate::error::WireError;

/// The longest call id.
pub const MAX_CALL_ID: usize = 128;

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
pub fn validate(input: &CallEventIn, prefix: &str, now: Timestamp) -> Result<CallInput, WireError> {
    let field = |name: &str| format!("{prefix}{name}");
    if input.call_id.is_empty() || input.call_id.len() > MAX_CALL_ID || !input.call_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WireError::invalid(
            "invalid_call_id",
            field("call_id"),
            format!("call_id must be 1 to {MAX_CALL_ID} printable characters"),
        ));
    }
    let kind = match input.event.as_str() {
        "start" => CallEventKind::Start,
        "end" => CallEventKind::End,
        _ => return Err(WireError::invalid("invalid_parameter", field("event"), "`start` or `end`")),
    };
    let ingress = match input.ingress.as_str() {
        "domestic" => Ingress::Domestic,
        "international" => Ingress::International,
        _ => {
            return Err(WireError::invalid(
                "invalid_parameter",
                field("ingress"),
                "`domestic` or `international`",
            ));
        }
    };
    let phone = |value: &str, name: &str| {
        PhoneNumber::parse(value).map_err(|e| WireError::invalid("invalid_phone", field(name), format!("not a valid phone number: {e}")))
    };
    let at = match &input.at {
        None => now,
        Some(t) => Timestamp::parse_rfc3339(t).map_err(|e| WireError::invalid("invalid_timestamp", field("at"), e.to_string()))?,
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

impl CallDecisionOut {
    pub fn from_verdict(call_id: &str, verdict: CallVerdict) -> CallDecisionOut {
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

/// A subscriber reference from a path: 64 lower-case hex digits.
pub fn subscriber(value: &str) -> Result<String, WireError> {
    if is_subscriber_ref(value) {
        Ok(value.to_owned())
    } else {
        Err(WireError::invalid(
            "invalid_subscriber_ref",
            "subscriber_ref",
            "a subscriber_ref is 64 lower-case hex digits: HMAC-SHA-256 of the E.164 number with the shared key",
        ))
    }
}
