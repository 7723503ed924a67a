//! PNBF recovery cases between banks (API.md "PNBF recovery cases"):
//! `POST /api/v1/pnbf/cases`, `GET /api/v1/pnbf/cases`, `GET /api/v1/pnbf/cases/{id}`,
//! `POST /api/v1/pnbf/cases/{id}/events`, `GET /api/v1/pnbf/cases/{id}/dossier`,
//! `GET /api/v1/pnbf/figures` and the bank-code directory `GET /api/v1/pnbf/bank-codes`,
//! `PUT`/`DELETE /api/v1/pnbf/bank-codes/{code}`.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use vangnet_core::PartnerKind;
use vangnet_core::pnbf::Side;
use vangnet_services::pnbf::{self, Parties};
use vangnet_store::Partner;
use vangnet_wire::pnbf::{
    BankCodeIn, BankCodeOut, CaseIn, CaseOut, CaseSummary, DossierOut, EventIn, FiguresAnswer, LinkOut, PartyOut, case_out, dossier_out,
    figures_csv, new_case, new_move, summary,
};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pnbf/cases", post(open).get(list))
        .route("/api/v1/pnbf/cases/{id}", get(read))
        .route("/api/v1/pnbf/cases/{id}/events", post(event))
        .route("/api/v1/pnbf/cases/{id}/dossier", get(dossier))
        .route("/api/v1/pnbf/cases/{id}/link", post(new_link))
        .route("/api/v1/pnbf/figures", get(figures))
        .route("/api/v1/pnbf/bank-codes", get(bank_codes))
        .route("/api/v1/pnbf/bank-codes/{code}", put(set_bank_code).delete(remove_bank_code))
}

/// Answers that carry personal data are not kept by caches.
use super::NO_STORE;

fn banks_only(partner: &Partner) -> Result<(), ApiError> {
    if partner.kind.holds_accounts() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only banks and payment service providers take part in PNBF cases",
        ))
    }
}

/// Opens a case (the victim's bank).
#[utoipa::path(post, path = "/api/v1/pnbf/cases", tag = "pnbf", request_body = CaseIn,
    responses(
        (status = 201, description = "Opened: `requested`, or `ineligible` with the conditions not met; `victim_link` shown once", body = CaseOut),
        (status = 403, description = "Only banks and PSPs", body = ErrorBody),
        (status = 422, description = "Invalid input, or the payee's bank is not in the directory (`unknown_payee_bank`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn open(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(input): ApiJson<CaseIn>,
) -> Result<(StatusCode, [(header::HeaderName, &'static str); 1], Json<CaseOut>), ApiError> {
    banks_only(&partner)?;
    let new = new_case(&input)?;
    let (case, secret) = pnbf::open(&state, &partner, new).await?;
    let mut out = case_out(&state, &case, Side::VictimBank, &partner).await?;
    out.victim_link = Some(format!("/zaak/{secret}"));
    Ok((StatusCode::CREATED, NO_STORE, Json(out)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `outbox` (cases this bank opened) or `inbox` (requests to this bank); both when absent.
    pub r#box: Option<String>,
}

/// The bank's cases: outbox and inbox, those waiting for it first, overdue before due.
#[utoipa::path(get, path = "/api/v1/pnbf/cases", tag = "pnbf",
    params(("box" = Option<String>, Query, description = "`outbox` or `inbox`")),
    responses((status = 200, description = "The cases", body = [CaseSummary]), (status = 403, description = "Only banks and PSPs", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(partner): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<CaseSummary>>, ApiError> {
    banks_only(&partner)?;
    let sides: &[Side] = match q.r#box.as_deref() {
        None => &[Side::VictimBank, Side::PayeeBank],
        Some("outbox") => &[Side::VictimBank],
        Some("inbox") => &[Side::PayeeBank],
        Some(_) => return Err(ApiError::invalid("invalid_parameter", "box", "outbox or inbox")),
    };
    let parties = Parties::load(&state).await?;
    let now = state.now();
    let mut out = Vec::new();
    for side in sides {
        for case in pnbf::cases_of(&state, &partner, *side).await? {
            out.push(summary(&parties, now, &case, *side));
        }
    }
    Ok(Json(out))
}

/// A case in a list, as the bank on `side` sees it at `now`.
#[utoipa::path(get, path = "/api/v1/pnbf/cases/{id}", tag = "pnbf",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, description = "The case", body = CaseOut), (status = 403, description = "Only banks and payment service providers", body = ErrorBody), (status = 404, description = "No such case, or not one of this bank's", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<CaseOut>), ApiError> {
    banks_only(&partner)?;
    let (case, side) = pnbf::read(&state, &partner, &id).await?;
    Ok((NO_STORE, Json(case_out(&state, &case, side, &partner).await?)))
}

/// Moves a case on. A move the state machine does not allow → 409 `transition_not_allowed`;
/// a move of the other bank → 409 `wrong_side`.
#[utoipa::path(post, path = "/api/v1/pnbf/cases/{id}/events", tag = "pnbf", request_body = EventIn,
    params(("id" = String, Path, description = "The case id")),
    responses(
        (status = 200, description = "The case after the move", body = CaseOut),
        (status = 403, description = "Not a bank or PSP", body = ErrorBody),
        (status = 404, description = "No such case, or not one of this bank's", body = ErrorBody),
        (status = 409, description = "Not allowed from the case's state (`transition_not_allowed`), the other bank's move (`wrong_side`), or changed meanwhile (`case_changed`)", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
        (status = 503, description = "No NAW key configured (`naw_key_missing`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn event(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<EventIn>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<CaseOut>), ApiError> {
    banks_only(&partner)?;
    let mv = new_move(&input)?;
    let case = pnbf::apply(&state, &partner, &id, mv).await?;
    let side = case.side_of(&partner).unwrap_or(Side::VictimBank);
    Ok((NO_STORE, Json(case_out(&state, &case, side, &partner).await?)))
}

/// A new victim's link.
#[utoipa::path(post, path = "/api/v1/pnbf/cases/{id}/link", tag = "pnbf",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, description = "The new link, shown once", body = LinkOut), (status = 403, description = "Only banks and payment service providers", body = ErrorBody), (status = 404, description = "No such case, or not opened by this bank", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn new_link(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<LinkOut>), ApiError> {
    banks_only(&partner)?;
    let secret = pnbf::new_link(&state, &partner, &id).await?;
    Ok((
        NO_STORE,
        Json(LinkOut {
            victim_link: format!("/zaak/{secret}"),
        }),
    ))
}

/// The dossier for civil recovery.
#[derive(Debug, Deserialize)]
pub struct DossierQuery {
    /// `json` (default) or `html` (for print).
    pub format: Option<String>,
}

/// The dossier for a bailiff or court: payment, aangifte, timeline, the NAW once released and
/// the registry evidence against the payee's account. Victim's bank only; JSON, or HTML for
/// print with `?format=html`.
#[utoipa::path(get, path = "/api/v1/pnbf/cases/{id}/dossier", tag = "pnbf",
    params(("id" = String, Path, description = "The case id"), ("format" = Option<String>, Query, description = "`json` or `html`")),
    responses((status = 200, description = "The dossier", body = DossierOut), (status = 403, description = "Only banks and payment service providers", body = ErrorBody), (status = 404, description = "No such case, or not opened by this bank", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn dossier(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    Query(q): Query<DossierQuery>,
) -> Result<Response, ApiError> {
    banks_only(&partner)?;
    let case = pnbf::read_as_victim_bank(&state, &partner, &id).await?;
    let out = dossier_out(&state, &case, &partner).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok((NO_STORE, Json(out)).into_response()),
        Some("html") => Ok(crate::web::pnbf::dossier_page(&out).into_response()),
        Some(_) => Err(ApiError::invalid("invalid_parameter", "format", "json or html")),
    }
}

#[derive(Debug, Deserialize)]
pub struct FiguresQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Figures of the procedure per bank (as victim's bank and as payee's bank) and in total. The
/// operator sees every bank's rows; a bank or PSP its own rows and the total; other partners
/// the total.
#[utoipa::path(get, path = "/api/v1/pnbf/figures", tag = "pnbf",
    params(("format" = Option<String>, Query, description = "`json` or `csv`")),
    responses((status = 200, description = "Figures", body = Object)),
    security(("bearer" = []))
)]
pub async fn figures(State(state): State<AppState>, Caller(partner): Caller, Query(q): Query<FiguresQuery>) -> Result<Response, ApiError> {
    let rows = pnbf::figure_rows_for(&state, &partner).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(FiguresAnswer::new(rows, state.now())).into_response()),
        Some("csv") => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], figures_csv(&rows)).into_response()),
        Some(_) => Err(ApiError::invalid("invalid_parameter", "format", "json or csv")),
    }
}

/// One entry of the bank-code directory.
#[utoipa::path(get, path = "/api/v1/pnbf/bank-codes", tag = "pnbf",
    responses((status = 200, description = "The directory", body = [BankCodeOut])),
    security(("bearer" = []))
)]
pub async fn bank_codes(State(state): State<AppState>, Caller(_partner): Caller) -> Result<Json<Vec<BankCodeOut>>, ApiError> {
    let out = state
        .bank_directory()
        .await?
        .into_iter()
        .map(|(code, p)| BankCodeOut {
            code,
            partner: PartyOut { id: p.id, name: p.name },
        })
        .collect();
    Ok(Json(out))
}

fn bank_code(code: &str) -> Result<String, ApiError> {
    vangnet_core::pnbf::bank_code(code)
        .ok_or_else(|| ApiError::invalid("invalid_bank_code", "code", "a Dutch bank code is four letters (e.g. INGB)"))
}

/// Points a bank code at a partner (operators only).
#[utoipa::path(put, path = "/api/v1/pnbf/bank-codes/{code}", tag = "pnbf", request_body = BankCodeIn,
    params(("code" = String, Path, description = "Four-letter bank code")),
    responses((status = 200, description = "Set", body = BankCodeOut), (status = 403, description = "Operators only", body = ErrorBody), (status = 422, description = "Invalid code or partner", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn set_bank_code(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<BankCodeIn>,
) -> Result<Json<BankCodeOut>, ApiError> {
    if partner.kind != PartnerKind::Operator {
        return Err(ApiError::forbidden("only the platform operator keeps the PNBF directory"));
    }
    let code = bank_code(&code)?;
    let target = state
        .set_bank_code(&partner, &code, &input.partner)
        .await?
        .ok_or_else(|| ApiError::invalid("unknown_partner", "partner", "no bank or PSP with that id or name"))?;
    Ok(Json(BankCodeOut {
        code,
        partner: PartyOut {
            id: target.id,
            name: target.name,
        },
    }))
}

/// Removes a bank code from the directory (operators only).
#[utoipa::path(delete, path = "/api/v1/pnbf/bank-codes/{code}", tag = "pnbf",
    params(("code" = String, Path, description = "Four-letter bank code")),
    responses((status = 204, description = "Removed"), (status = 403, description = "Operators only", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn remove_bank_code(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if partner.kind != PartnerKind::Operator {
        return Err(ApiError::forbidden("only the platform operator keeps the PNBF directory"));
    }
    let code = bank_code(&code)?;
    state.remove_bank_code(&partner, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_codes_are_four_letters() {
        assert_eq!(bank_code("ingb").expect("valid"), "INGB");
        assert!(bank_code("IN1B").is_err());
    }
}
