//! The API error: one JSON shape for every 4xx and 5xx, with a stable machine-readable code.
//!
//! `{"error": {"code": "invalid_iban", "message": "…", "field": "indicators[0].value"}}`
//!
//! Messages name the field and the reason in plain English; they never contain internal
//! details (those go to the log, without personal data) and never echo indicator values.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use vangnet_core::dispute::DisputeError;
use vangnet_core::indicator::IndicatorError;
use vangnet_services::disputes::DisputeServiceError;
use vangnet_services::pnbf::PnbfError;
use vangnet_services::screening::ScreeningError;
use vangnet_store::StoreError;
pub use vangnet_wire::{ErrorBody, ErrorDetail, WireError};

/// Every error code the API returns, with its meaning. Stable: codes are only ever added.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("missing_token", "No `Authorization: Bearer` token was sent (401)."),
    ("invalid_token", "The token is unknown or revoked (401)."),
    ("forbidden", "The partner's kind may not do this (403)."),
    (
        "scope_missing",
        "The token was not issued for this use; the message names the scope it needs (403).",
    ),
    ("not_found", "No such resource, or none this partner may see (404)."),
    ("method_not_allowed", "The resource does not support this HTTP method (405)."),
    ("payload_too_large", "The request body is larger than the documented limit (413)."),
    (
        "unsupported_media_type",
        "The body must be JSON with `Content-Type: application/json` (415).",
    ),
    ("invalid_json", "The body is not valid JSON (400)."),
    (
        "unreadable_body",
        "The request body could not be read (a broken chunked encoding or connection) (400).",
    ),
    (
        "invalid_request",
        "The JSON does not have the expected shape; `field` names where (422).",
    ),
    ("unknown_field", "The body contains a field the API does not know (422)."),
    ("missing_field", "A required field is missing (422)."),
    ("batch_too_large", "More than 1,000 items in one request (422)."),
    ("no_indicators", "A report needs at least one indicator (422)."),
    ("too_many_indicators", "A report names more than 50 indicators (422)."),
    ("empty_value", "An indicator value is empty (422)."),
    ("value_too_long", "An indicator value is longer than allowed (422)."),
    (
        "unknown_indicator_kind",
        "The kind is not one of iban, phone, url, domain, email, crypto, handle, or cannot be detected (422).",
    ),
    ("invalid_iban", "Not a valid IBAN (422)."),
    ("invalid_phone", "Not a valid phone number (422)."),
    ("invalid_url", "Not a valid http(s) address (422)."),
    ("invalid_domain", "Not a valid registrable domain name (422)."),
    ("invalid_email", "Not a valid e-mail address (422)."),
    ("invalid_crypto", "Not a valid crypto address (422)."),
    ("invalid_handle", "Not a valid platform handle (422)."),
    ("invalid_fraud_type", "Unknown fraud type (422)."),
    ("invalid_channel", "Unknown channel (422)."),
    ("invalid_role", "Unknown indicator role (422)."),
    ("invalid_tlp", "Unknown TLP marking (422)."),
    ("invalid_age_band", "Unknown age band (422)."),
    ("invalid_timestamp", "Not an RFC 3339 time stamp (422)."),
    ("occurred_in_future", "`occurred_at` lies in the future (422)."),
    ("invalid_amount", "Not a valid amount or currency (422)."),
    ("description_too_long", "The description is longer than 4,000 characters (422)."),
    ("invalid_text", "A text field contains control characters (422)."),
    (
        "invalid_external_id",
        "`external_id` is not 1 to 128 letters, digits or . _ : - (422).",
    ),
    ("invalid_status", "Unknown indicator status (422)."),
    ("invalid_parameter", "A query parameter is out of range (422)."),
    ("invalid_payment_id", "A payment id is empty, too long or contains `/` (422)."),
    ("unsupported_currency", "Payments are screened in EUR only (422)."),
    ("invalid_xml", "The ISO 20022 message is not well-formed XML, or not UTF-8 (422)."),
    (
        "unsupported_message",
        "Not a pacs.008 (.001.08 to .001.13) or pain.001 (.001.03, .001.09) message (422).",
    ),
    (
        "missing_element",
        "A transaction of an ISO 20022 message lacks a required element; `field` names it (422, per transaction).",
    ),
    ("invalid_call_id", "A call id is empty, too long or not printable (422)."),
    (
        "invalid_subscriber_ref",
        "Not a subscriber reference: 64 lower-case hex digits (422).",
    ),
    (
        "payment_id_conflict",
        "The payment id was used before by this partner for a different payment (409).",
    ),
    (
        "external_id_conflict",
        "This partner used the `external_id` before for a different report (409).",
    ),
    ("already_retracted", "The report was retracted before (409)."),
    (
        "number_owned_by_other_partner",
        "Another partner keeps this number on the call list; only it or an operator can change the entry (409).",
    ),
    (
        "not_owner",
        "The entry belongs to another partner; only that partner or an operator removes it (403).",
    ),
    (
        "already_reviewed",
        "A reviewer decided about this citizen report, objection or clearance review before; the first decision stands (409).",
    ),
    (
        "transition_not_allowed",
        "A PNBF case or a dispute cannot take this event or decision in its current state (409).",
    ),
    ("missing_reason", "A dispute's move needs a reason (422)."),
    ("reason_too_long", "A reason is longer than 2,000 characters (422)."),
    (
        "not_holders_bank",
        "The IBAN is held by another bank: only the holder's own bank or PSP opens a dispute about it (403).",
    ),
    (
        "dispute_open",
        "The indicator has an open dispute already; the message names it (409).",
    ),
    (
        "dispute_changed",
        "The dispute was moved since the `version` sent; read it again (409).",
    ),
    ("wrong_side", "This PNBF event belongs to the other bank of the case (409)."),
    (
        "case_changed",
        "The PNBF case changed while the event was made; read it again and retry (409).",
    ),
    (
        "unknown_payee_bank",
        "No partner handles the payee IBAN's bank code in the PNBF directory (422).",
    ),
    (
        "unknown_payer_bank",
        "No partner handles the payer IBAN's bank code in the PNBF directory (422).",
    ),
    (
        "not_payers_bank",
        "The payer IBAN is held by another bank; only that bank opens a PNBF case for it (403).",
    ),
    ("invalid_payment_method", "Unknown payment method (422)."),
    ("invalid_category", "Unknown PNBF fraud category (422)."),
    ("invalid_event", "Unknown PNBF case event (422)."),
    (
        "invalid_outcome",
        "Unknown PNBF case outcome, dispute decision or clearance outcome (422).",
    ),
    ("invalid_bank_code", "Not a four-letter Dutch bank code (422)."),
    ("unknown_partner", "No partner of a suitable kind with that id or name (422)."),
    (
        "naw_key_missing",
        "No NAW encryption key is configured; the NAW cannot be entered or read (503).",
    ),
    ("naw_unreadable", "A stored NAW cannot be decrypted with the configured key (500)."),
    (
        "rate_limited",
        "Too many requests; wait the number of seconds in `Retry-After` (429).",
    ),
    ("timeout", "The request took longer than the server's time limit (503)."),
    ("unavailable", "The server cannot reach its store right now (503)."),
    ("internal", "Something went wrong on the server; it has been logged (500)."),
];

/// An error answered to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// A 422 about one field.
    pub fn invalid(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}, or none you may see"))
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// An indicator that cannot be normalised, reported against `field`.
    pub fn indicator(e: &IndicatorError, field: impl Into<String>) -> ApiError {
        ApiError::invalid(e.code(), field, e.to_string())
    }

    /// The JSON form of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        // Store errors carry database messages, never indicator values, so they may be logged.
        tracing::error!(error = %e, "store error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the registry's store is not available right now; try again shortly",
        )
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> ApiError {
        let status = if e.malformed {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        ApiError {
            status,
            code: e.code,
            message: e.message,
            field: e.field,
            retry_after: None,
        }
    }
}

impl From<PnbfError> for ApiError {
    fn from(e: PnbfError) -> ApiError {
        match e {
            PnbfError::Invalid { code, field, message } => ApiError::invalid(code, field, message),
            PnbfError::NotFound => ApiError::not_found("case"),
            PnbfError::NotPayersBank => ApiError::new(StatusCode::FORBIDDEN, "not_payers_bank", e.to_string()).with_field("payer_iban"),
            // API.md: a move the state machine does not allow is 409, also one of the other side.
            PnbfError::Move(m) => ApiError::new(StatusCode::CONFLICT, m.code(), m.to_string()).with_field("event"),
            PnbfError::Conflict => ApiError::new(StatusCode::CONFLICT, "case_changed", e.to_string()),
            PnbfError::NoKey => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "naw_key_missing", e.to_string()),
            PnbfError::Unreadable => {
                tracing::error!("a stored NAW could not be decrypted: is pnbf.naw_key_file the key it was written with?");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "naw_unreadable", e.to_string())
            }
            PnbfError::Store(e) => e.into(),
        }
    }
}

impl From<DisputeServiceError> for ApiError {
    fn from(e: DisputeServiceError) -> ApiError {
        let message = e.to_string();
        match e {
            DisputeServiceError::Reason(r) => ApiError::invalid(r.code(), "reason", message),
            DisputeServiceError::Forbidden(m) => ApiError::forbidden(m),
            DisputeServiceError::NotHoldersBank => ApiError::new(StatusCode::FORBIDDEN, "not_holders_bank", message).with_field("value"),
            DisputeServiceError::NotFound => ApiError::not_found("dispute"),
            DisputeServiceError::AlreadyOpen { id } => ApiError::new(
                StatusCode::CONFLICT,
                "dispute_open",
                format!("the indicator has an open dispute already: {id}"),
            ),
            DisputeServiceError::Move(m @ DisputeError::NotPermitted { .. }) => ApiError::forbidden(m.to_string()),
            DisputeServiceError::Move(m) => ApiError::new(StatusCode::CONFLICT, m.code(), message),
            DisputeServiceError::Changed => ApiError::new(StatusCode::CONFLICT, "dispute_changed", message).with_field("version"),
            DisputeServiceError::RequestDecided => ApiError::new(StatusCode::CONFLICT, "already_reviewed", message),
            DisputeServiceError::Store(e) => e.into(),
        }
    }
}

impl From<ScreeningError> for ApiError {
    fn from(e: ScreeningError) -> ApiError {
        match e {
            ScreeningError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "payment_id_conflict",
                "this payment id was used before for a different payment",
            )
            .with_field("id"),
            ScreeningError::Store(e) => e.into(),
            ScreeningError::Stopped => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is shutting down"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"vangnet\""));
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The last safety net for the API's error shape: an error answer under `/api/` that is not
/// JSON (a rejection of a layer or extractor that does not know the API's shape) is answered as
/// the JSON error with the code of its status. The extractors answer in the API's shape
/// themselves; this only keeps a future one from slipping through.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("unreadable_body", "the request could not be read"),
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this resource does not support that method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is larger than the server accepts"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "this content type is not accepted here"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; slow down"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the server cannot answer right now; try again shortly"),
        s if s.is_client_error() => ("invalid_request", "the request was not accepted"),
        _ => ("internal", "something went wrong on the server; it has been logged"),
    };
    tracing::warn!(
        status = status.as_u16(),
        code,
        "an error answer was not in the API's shape; rewritten"
    );
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let mut rewritten = ApiError::new(status, code, message).into_response();
    if let Some(value) = retry_after {
        rewritten.headers_mut().insert(header::RETRY_AFTER, value);
    }
    rewritten
}

impl From<vangnet_services::mules::MuleError> for ApiError {
    fn from(e: vangnet_services::mules::MuleError) -> ApiError {
        use vangnet_services::mules::MuleError;
        match e {
            MuleError::Forbidden(m) => ApiError::forbidden(m),
            MuleError::NotVisible => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            MuleError::Store(m) => StoreError::Database(m).into(),
            MuleError::Stopped => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is shutting down"),
        }
    }
}

impl From<vangnet_services::subjects::SubjectError> for ApiError {
    fn from(e: vangnet_services::subjects::SubjectError) -> ApiError {
        use vangnet_services::subjects::SubjectError;
        match e {
            SubjectError::Forbidden => ApiError::forbidden(e.to_string()),
            SubjectError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut codes: Vec<&str> = ERROR_CODES.iter().map(|(c, _)| *c).collect();
        assert!(codes.iter().all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }

    #[test]
    fn wire_errors_are_400_when_malformed_else_422() {
        let malformed = ApiError::from(vangnet_wire::json::parse_json::<serde_json::Value>(b"{").expect_err("not JSON"));
        assert_eq!((malformed.status, malformed.code), (StatusCode::BAD_REQUEST, "invalid_json"));
        let invalid = ApiError::from(WireError::invalid("invalid_iban", "payee.iban", "not a valid IBAN"));
        assert_eq!(
            (invalid.status, invalid.code, invalid.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_iban", Some("payee.iban"))
        );
    }
}
