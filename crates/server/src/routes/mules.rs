//! Money-mule detection (API.md "Money mules"): `POST /api/v1/transactions` (batches of
//! transactions into the detectors), `GET /api/v1/mules/accounts/{iban}` (one account's flags,
//! score and explanation) and `GET /api/v1/mules/alerts` (the reader's alerts, newest first).

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use vangnet_core::indicator::Iban;
use vangnet_services::mule_reads;
use vangnet_services::mules::MAX_ALERTS_PAGE;
use vangnet_wire::json::parse_json;
use vangnet_wire::mules::{
    MuleAccountOut, MuleAlertsOut, TransactionsIn, TransactionsOut, batch_answer, check_batch, oldest_kept, validate_batch,
};

use super::NO_STORE;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiBody, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

/// The largest body `POST /api/v1/transactions` takes: room for 10,000 transactions.
pub const MAX_TRANSACTIONS_BODY: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/transactions",
            post(ingest).layer(DefaultBodyLimit::max(MAX_TRANSACTIONS_BODY)),
        )
        .route("/api/v1/mules/accounts/{iban}", get(account))
        .route("/api/v1/mules/alerts", get(alerts))
}

/// Send transactions into the money-mule detectors.
///
/// A batch of 1 to 10,000 transactions between accounts (any IBANs; amounts in the accounts'
/// own currencies), from banks and payment service providers. Each is checked on its own: an
/// invalid one is listed in `failed` with its index and error, and nothing is stored from it;
/// the rest are stored before the answer and run through every detector in time order. An id
/// sent before with the same content is a repeat and changes nothing; with other content it
/// fails with `id_conflict`. Scored payments (`POST /api/v1/payments/score`) are taken in
/// automatically. The body may be up to 8 MiB.
#[utoipa::path(post, path = "/api/v1/transactions", tag = "mules", request_body = TransactionsIn,
    responses(
        (status = 200, description = "What became of the batch", body = TransactionsOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only banks and payment service providers", body = ErrorBody),
        (status = 413, description = "The body is larger than 8 MiB", body = ErrorBody),
        (status = 422, description = "Not 1 to 10,000 transactions (`invalid_batch_size`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn ingest(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiBody(body): ApiBody,
) -> Result<Json<TransactionsOut>, ApiError> {
    if !partner.kind.holds_accounts() {
        return Err(ApiError::forbidden("only banks and payment service providers send transactions"));
    }
    let batch: TransactionsIn = parse_json(&body)?;
    check_batch(&batch)?;
    let now = state.now();
    let oldest = oldest_kept(now, state.mules.settings().transaction_days);
    let (valid, invalid) = validate_batch(&batch, now, oldest);
    let inputs: Vec<_> = valid.iter().map(|(_, t)| t.clone()).collect();
    let outcomes = if inputs.is_empty() {
        Vec::new()
    } else {
        state.mules.ingest(&partner, &inputs).await?
    };
    let indexed: Vec<_> = valid.iter().map(|(i, _)| *i).zip(outcomes).collect();
    Ok(Json(batch_answer(&batch, invalid, &indexed)))
}

/// One account's money-mule flags, score and explanation.
///
/// For the police, any account; for a bank or payment service provider, an account it holds
/// (its bank codes in the PNBF directory) or one its customers paid — any other is `404`, so
/// that the answer does not tell whether another bank's account is flagged. The score (0 to 1)
/// combines the patterns the account was flagged in (the strongest flag per pattern, fading
/// with a half-life) and partners' reports naming it in the role `mule`. Audited.
#[utoipa::path(get, path = "/api/v1/mules/accounts/{iban}", tag = "mules",
    params(("iban" = String, Path, description = "The account's IBAN, in any common notation")),
    responses(
        (status = 200, description = "Flags, score and reasons", body = MuleAccountOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the police, banks and payment service providers", body = ErrorBody),
        (status = 404, description = "No mule information about this account that you may see", body = ErrorBody),
        (status = 422, description = "Not a valid IBAN (`invalid_iban`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn account(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(iban): ApiPath<String>,
) -> Result<([(axum::http::header::HeaderName, &'static str); 1], Json<MuleAccountOut>), ApiError> {
    let iban = Iban::parse(&iban).map_err(|e| ApiError::invalid("invalid_iban", "iban", format!("not a valid IBAN: {e}")))?;
    let view = mule_reads::account(&state, &partner, &iban).await?;
    Ok((NO_STORE, Json(MuleAccountOut::from(&view))))
}

/// Paging of the alerts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// Only alerts older than this alert id (the `next` of the previous page).
    pub before: Option<i64>,
    /// 1 to 100 (default 50).
    pub limit: Option<u32>,
}

/// The reader's money-mule alerts, newest first.
///
/// For a bank or payment service provider: the patterns that name an account it holds or an
/// account its customers paid, with the IBANs of those accounts only (the others show their
/// bank code); for the police: all, with every IBAN known. Audited (the page, and each IBAN
/// shown).
#[utoipa::path(get, path = "/api/v1/mules/alerts", tag = "mules", params(AlertsQuery),
    responses(
        (status = 200, description = "A page of alerts", body = MuleAlertsOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the police, banks and payment service providers", body = ErrorBody),
        (status = 422, description = "A limit outside 1 to 100", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn alerts(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> Result<([(axum::http::header::HeaderName, &'static str); 1], Json<MuleAlertsOut>), ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_ALERTS_PAGE).contains(&limit) {
        return Err(ApiError::invalid("invalid_parameter", "limit", "limit must be between 1 and 100"));
    }
    let page = mule_reads::alerts(&state, &partner, query.before, limit).await?;
    Ok((NO_STORE, Json(MuleAlertsOut::from(&page))))
}
