//! `POST /api/v1/payments/score` and `GET /api/v1/payments/{id}`: payment screening for banks
//! and payment service providers (API.md "Interventions").

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::indicator::Iban;
use vangnet_core::screening::payments::NameCheck;
use vangnet_core::{Currency, Timestamp};
use vangnet_store::Partner;

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::extract::{ApiBody, ApiPath, Caller, parse_json};
use crate::screening::iso20022::{self, MessageError, RawTransaction};
use crate::screening::{DecisionOut, PaymentInput, ScreeningError};
use crate::state::AppState;
use crate::wire::MoneyJson;

/// The longest payment id (an ISO 20022 end-to-end id is at most 35 characters).
pub const MAX_PAYMENT_ID: usize = 64;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments/score", post(score))
        .route("/api/v1/payments/{id}", get(read))
}

/// The paying side.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerIn {
    #[schema(example = "NL02ABNA0123456789")]
    pub iban: String,
    /// The payer's keyed phone-number reference (HMAC shared with the telecom provider), to
    /// ask whether the payer is on a call with an unverified caller right now.
    pub subscriber_ref: Option<String>,
}

/// The receiving side.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeIn {
    #[schema(example = "NL91ABNA0417164300")]
    pub iban: String,
    /// The name the payer entered (not stored).
    pub name: Option<String>,
    /// The bank's verification-of-payee result: `match`, `close_match`, `no_match` or
    /// `not_checked` (the default).
    pub verification: Option<String>,
}

/// One payment to score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// The payment's id (end-to-end id), unique per partner: sending it again returns the
    /// stored decision.
    #[schema(example = "e2e-123")]
    pub id: String,
    pub payer: PayerIn,
    pub payee: PayeeIn,
    /// In euros.
    pub amount: MoneyJson,
    /// An instant (SCT Inst) payment.
    #[serde(default)]
    pub instant: bool,
    /// When the payer initiated it (RFC 3339); the time of receipt when left out.
    pub initiated_at: Option<String>,
}

/// Why the decision is what it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonOut {
    /// Stable rule code: `payee_reported`, `payee_reported_disputed`, `first_payment_to_payee`,
    /// `unusual_amount`, `instant_large_new_payee`, `payer_on_call_unverified`,
    /// `payee_mule_fan_in`, `payee_mule_pass_through`, `payee_name_mismatch`,
    /// `payee_name_close_match`.
    pub code: String,
    pub message: String,
}

/// The decision for one payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionJson {
    pub id: String,
    /// `allow`, `warn`, `hold` or `block`.
    pub decision: String,
    /// 0 to 1.
    pub score: f64,
    pub reasons: Vec<ReasonOut>,
    /// The rules file version that decided.
    pub rules_version: String,
    pub decided_at: String,
}

impl From<DecisionOut> for DecisionJson {
    fn from(d: DecisionOut) -> Self {
        DecisionJson {
            id: d.id,
            decision: d.decision,
            score: d.score,
            reasons: d.reasons.into_iter().map(|(code, message)| ReasonOut { code, message }).collect(),
            rules_version: d.rules_version,
            decided_at: d.decided_at.to_rfc3339(),
        }
    }
}

fn may_screen(partner: &Partner) -> Result<(), ApiError> {
    if partner.kind.holds_accounts() {
        Ok(())
    } else {
        Err(ApiError::forbidden("only banks and payment service providers screen payments"))
    }
}

fn is_payment_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_PAYMENT_ID && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

/// Checks a JSON payment; `prefix` names its place in a larger message (empty for one payment).
pub fn validate(input: &PaymentIn, prefix: &str, now: Timestamp) -> Result<PaymentInput, ApiError> {
    let field = |name: &str| format!("{prefix}{name}");
    if !is_payment_id(&input.id) {
        return Err(ApiError::invalid(
            "invalid_payment_id",
            field("id"),
            format!("id must be 1 to {MAX_PAYMENT_ID} printable characters without `/`"),
        ));
    }
    let iban = |value: &str, name: &str| {
        Iban::parse(value).map_err(|e| ApiError::invalid("invalid_iban", field(name), format!("not a valid IBAN: {e}")))
    };
    let payer = iban(&input.payer.iban, "payer.iban")?;
    let payee = iban(&input.payee.iban, "payee.iban")?;
    let amount = input.amount.parse(&field("amount"))?;
    if amount.currency() != Currency::EUR {
        return Err(ApiError::invalid(
            "unsupported_currency",
            field("amount.currency"),
            "payments are screened in EUR",
        ));
    }
    let name_check = match input.payee.verification.as_deref() {
        None => NameCheck::NotChecked,
        Some(v) => NameCheck::from_key(v).ok_or_else(|| {
            ApiError::invalid(
                "invalid_parameter",
                field("payee.verification"),
                "one of match, close_match, no_match, not_checked",
            )
        })?,
    };
    if input.payee.name.as_deref().is_some_and(|n| n.chars().count() > 140) {
        return Err(ApiError::invalid(
            "invalid_parameter",
            field("payee.name"),
            "at most 140 characters",
        ));
    }
    if let Some(r) = &input.payer.subscriber_ref
        && (r.is_empty() || r.len() > 128 || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(ApiError::invalid(
            "invalid_parameter",
            field("payer.subscriber_ref"),
            "1 to 128 letters, digits, - or _",
        ));
    }
    let initiated_at = match &input.initiated_at {
        None => now,
        Some(t) => Timestamp::parse_rfc3339(t).map_err(|e| ApiError::invalid("invalid_timestamp", field("initiated_at"), e.to_string()))?,
    };
    Ok(PaymentInput {
        id: input.id.clone(),
        payer,
        payee,
        amount,
        instant: input.instant,
        initiated_at,
        name_check,
        subscriber_ref: input.payer.subscriber_ref.clone(),
    })
}

pub fn screening_error(e: ScreeningError) -> ApiError {
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

/// One entry of a message's answer: a decision, or the error of that transaction.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MessageEntry {
    Decided(DecisionJson),
    Failed(TransactionError),
}

/// A transaction of a message that could not be decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionError {
    /// 0-based position in the message.
    pub index: usize,
    /// Its end-to-end id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub error: ErrorDetail,
}

/// The answer to an ISO 20022 message: one entry per transaction, in message order.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDecisions {
    /// `pacs.008.001.08`, `pain.001.001.03`, …
    pub message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub decisions: Vec<MessageEntry>,
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// An ISO 20022 date-time without an offset is taken as UTC.
fn iso_time(text: &str) -> String {
    let has_offset = text.ends_with('Z') || text.get(19..).is_some_and(|rest| rest.contains(['+', '-']));
    if has_offset { text.to_owned() } else { format!("{text}Z") }
}

/// Turns one transaction of a message into a payment, or names what is missing or wrong.
pub fn transaction_input(tx: &RawTransaction, now: Timestamp) -> Result<PaymentInput, ApiError> {
    let missing = |element: &str| ApiError::invalid("missing_element", tx.path(element), format!("the transaction has no {element}"));
    let input = PaymentIn {
        id: tx.end_to_end_id.clone().ok_or_else(|| missing("PmtId/EndToEndId"))?,
        payer: PayerIn {
            iban: tx.debtor_iban.clone().ok_or_else(|| missing("DbtrAcct/Id/IBAN"))?,
            subscriber_ref: None,
        },
        payee: PayeeIn {
            iban: tx.creditor_iban.clone().ok_or_else(|| missing("CdtrAcct/Id/IBAN"))?,
            name: tx.creditor_name.clone(),
            verification: None,
        },
        amount: MoneyJson {
            value: tx.amount.clone().ok_or_else(|| missing("IntrBkSttlmAmt"))?,
            currency: tx.currency.clone().ok_or_else(|| missing("IntrBkSttlmAmt/@Ccy"))?,
        },
        instant: tx.instant,
        initiated_at: tx.at.as_deref().map(iso_time),
    };
    validate(&input, &format!("CdtTrfTxInf[{}].", tx.index), now)
}

/// Score a payment, or every transaction of an ISO 20022 message.
///
/// With `Content-Type: application/json`: one payment, answered with its decision (`allow`,
/// `warn`, `hold`, `block`), a score and the reasons, under the rules file whose version is
/// given. With `Content-Type: application/xml`: a pacs.008 (`.001.08` to `.001.13`) or pain.001
/// (`.001.03`, `.001.09`) message of up to 1,000 transactions, answered with one entry per
/// transaction in message order (`MessageDecisions`): a decision, or that transaction's error
/// (a missing element, an invalid IBAN). A message that is not well-formed, or not one of these
/// messages, is refused as a whole (422 `invalid_xml` / `unsupported_message`).
///
/// Every decision is stored before it is answered; the same id again returns it unchanged (a
/// different payment under the same id is `409`, or that transaction's error in a message).
#[utoipa::path(
    post,
    path = "/api/v1/payments/score",
    tag = "interventions",
    request_body(content(
        (PaymentIn = "application/json"),
        (String = "application/xml"),
    )),
    responses(
        (status = 200, description = "The decision (JSON), or one entry per transaction (XML: MessageDecisions)", body = DecisionJson),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only banks and payment service providers", body = ErrorBody),
        (status = 409, description = "The id was used for a different payment", body = ErrorBody),
        (status = 415, description = "Neither JSON nor XML", body = ErrorBody),
        (status = 422, description = "Invalid payment or message; `field` names what is wrong", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn score(
    State(state): State<AppState>,
    Caller(partner): Caller,
    headers: HeaderMap,
    ApiBody(body): ApiBody,
) -> Result<Response, ApiError> {
    may_screen(&partner)?;
    let media = media_type(&headers);
    if media == "application/json" {
        let input: PaymentIn = parse_json(&body)?;
        let payment = validate(&input, "", state.now())?;
        let decided = state.screening.decide(&state, &partner, &payment).await.map_err(screening_error)?;
        return Ok(Json(DecisionJson::from(decided)).into_response());
    }
    if media != "application/xml" && media != "text/xml" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send one payment as application/json, or a pacs.008 or pain.001 message as application/xml",
        ));
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("invalid_xml", "body", "the message is not UTF-8"))?;
    let message = iso20022::parse(text).map_err(|e| match e {
        MessageError::Malformed(m) => ApiError::invalid("invalid_xml", "body", m),
        MessageError::Unsupported(m) => ApiError::invalid("unsupported_message", "body", m),
        MessageError::TooMany => ApiError::invalid("batch_too_large", "body", e.to_string()),
    })?;
    let now = state.now();
    let inputs: Vec<Result<PaymentInput, ApiError>> = message.transactions.iter().map(|tx| transaction_input(tx, now)).collect();
    let decisions = futures_util::future::join_all(inputs.iter().map(|input| {
        let state = &state;
        let partner = &partner;
        async move {
            match input {
                Ok(payment) => state.screening.decide(state, partner, payment).await.map_err(screening_error),
                Err(e) => Err(e.clone()),
            }
        }
    }))
    .await;
    let entries = decisions
        .into_iter()
        .zip(&message.transactions)
        .map(|(outcome, tx)| match outcome {
            Ok(decided) => Ok(MessageEntry::Decided(decided.into())),
            Err(e) if e.status.is_server_error() => Err(e),
            Err(e) => Ok(MessageEntry::Failed(TransactionError {
                index: tx.index,
                id: tx.end_to_end_id.clone(),
                error: e.body().error,
            })),
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(MessageDecisions {
        message_type: message.kind.name().to_owned(),
        message_id: message.message_id,
        decisions: entries,
    })
    .into_response())
}

/// A stored payment decision.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}",
    tag = "interventions",
    params(("id" = String, Path, description = "The payment id as sent")),
    responses(
        (status = 200, description = "The stored decision", body = DecisionJson),
        (status = 403, description = "Only banks and payment service providers", body = ErrorBody),
        (status = 404, description = "No decision for this id from your organisation", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DecisionJson>, ApiError> {
    may_screen(&partner)?;
    if !is_payment_id(&id) {
        return Err(ApiError::not_found("payment decision"));
    }
    let row = state
        .store
        .payment_decision(partner.seq, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment decision"))?;
    Ok(Json(DecisionOut::from_row(&row).into()))
}
