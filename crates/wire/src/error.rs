//! What is wrong with an input, as every adapter reports it: a stable code, the field it
//! concerns and a plain-English message. The HTTP adapter answers it as 400 (`malformed`: not
//! JSON at all) or 422; the stream workers put it on the dead-letter subject's headers.
//!
//! Messages name the field and the reason; they never echo indicator values.

use serde::Serialize;
use utoipa::ToSchema;
use vangnet_core::indicator::IndicatorError;

/// An input that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// The input is not even syntactically what it should be (not JSON).
    pub malformed: bool,
}

impl WireError {
    /// A field that is present but wrong.
    pub fn invalid(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> WireError {
        WireError {
            code,
            message: message.into(),
            field: Some(field.into()),
            malformed: false,
        }
    }

    /// A body that is not JSON.
    pub fn malformed(code: &'static str, message: impl Into<String>) -> WireError {
        WireError {
            code,
            message: message.into(),
            field: None,
            malformed: true,
        }
    }

    /// An indicator that cannot be normalised, reported against `field`.
    pub fn indicator(e: &IndicatorError, field: impl Into<String>) -> WireError {
        WireError::invalid(e.code(), field, e.to_string())
    }

    /// The JSON error object.
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: self.code.to_owned(),
            message: self.message.clone(),
            field: self.field.clone(),
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for WireError {}

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error object: a stable `code` (see the `x-error-codes` list), a message and the field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    #[schema(example = "invalid_iban")]
    pub code: String,
    /// What is wrong, in plain English.
    pub message: String,
    /// The request field the error concerns, as a path (`indicators[0].value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
