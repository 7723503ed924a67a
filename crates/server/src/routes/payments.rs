//! `POST /api/v1/payments/score` and `GET /api/v1/payments/{id}`: payment screening for banks
//! and payment service providers (API.md "Interventions").

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use vangnet_services::screening::{DecisionOut, PaymentInput};
use vangnet_store::Partner;
use vangnet_wire::json::parse_json;
use vangnet_wire::payments::{
    DecisionJson, MessageDecisions, MessageEntry, PaymentIn, TransactionError, is_payment_id, parse_message, transaction_input, validate,
};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiBody, ApiPath, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments/score", post(score))
        .route("/api/v1/payments/{id}", get(read))
}

fn may_screen(partner: &Partner) -> Result<(), ApiError> {
    if partner.kind.holds_accounts() {
        Ok(())
    } else {
        Err(ApiError::forbidden("only banks and payment service providers screen payments"))
    }
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
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
        let decided = state.decide_payment(&partner, &payment).await.map_err(ApiError::from)?;
        return Ok(Json(DecisionJson::from(decided)).into_response());
    }
    if media != "application/xml" && media != "text/xml" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send one payment as application/json, or a pacs.008 or pain.001 message as application/xml",
        ));
    }
    let message = parse_message(&body)?;
    let now = state.now();
    let inputs: Vec<Result<PaymentInput, ApiError>> = message
        .transactions
        .iter()
        .map(|tx| transaction_input(tx, now).map_err(ApiError::from))
        .collect();
    let decisions = futures_util::future::join_all(inputs.iter().map(|input| {
        let state = &state;
        let partner = &partner;
        async move {
            match input {
                Ok(payment) => state.decide_payment(partner, payment).await.map_err(ApiError::from),
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
