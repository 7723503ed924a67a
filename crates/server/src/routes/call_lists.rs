//! The call lists that call screening uses, with owners: the do-not-originate list
//! (`/api/v1/protected-numbers`) and the spoofing exceptions (`/api/v1/spoofing-exceptions`).
//!
//! An entry belongs to the partner that added it; only that partner or an operator removes it.
//! A bank may add a number to the do-not-originate list, but the entry stays `pending` (not
//! screened against) until an operator approves it, because a call from a protected number is
//! blocked: without the approval any bank could silence any consumer's mobile. Telecom providers
//! and operators add entries that are `active` at once. Every change is audited and kept in the
//! number's history, which its owner reads.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vangnet_core::PartnerKind;
use vangnet_core::indicator::PhoneNumber;
use vangnet_store::{CallEntryState, CallListAdd, CallListEntry, CallListRemove, Partner};

use super::calls::only;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;
use vangnet_services::screening::call_lists::ListedNumber;
use vangnet_services::screening::calls::{EXCEPTION, PROTECTED};

/// The most numbers one bulk request may hold.
pub const MAX_NUMBERS: usize = 1_000;
/// Entries listed at once, at most (and by default).
const MAX_LIST: usize = 1_000;

const LIST_KEEPERS: [PartnerKind; 3] = [PartnerKind::Bank, PartnerKind::Telecom, PartnerKind::Operator];
const EXCEPTION_KEEPERS: [PartnerKind; 2] = [PartnerKind::Telecom, PartnerKind::Operator];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/protected-numbers", put(protect_many).get(list_protected))
        .route(
            "/api/v1/protected-numbers/{e164}",
            put(protect).get(read_protected).delete(unprotect),
        )
        .route("/api/v1/protected-numbers/{e164}/approve", post(approve))
        .route("/api/v1/spoofing-exceptions", get(list_exceptions))
        .route(
            "/api/v1/spoofing-exceptions/{e164}",
            put(except).get(read_exception).delete(unexcept),
        )
}

/// A number on a call list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedOut {
    pub e164: String,
    /// `protected` or `exception`.
    pub list: String,
    /// False when it was on the list already.
    pub added: bool,
    /// `active` (screened against) or `pending` (a bank's entry waiting for an operator).
    pub state: String,
    /// The partner that owns the entry.
    pub owner: String,
    pub added_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

impl ListedOut {
    fn from(entry: &CallListEntry, added: bool) -> ListedOut {
        ListedOut {
            e164: entry.e164.clone(),
            list: entry.list.clone(),
            added,
            state: entry.state.as_str().to_owned(),
            owner: entry.owner_id.clone(),
            added_at: entry.added_at.to_rfc3339(),
            approved_at: entry.approved_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Numbers to protect at once (at most 1,000).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumbersIn {
    pub numbers: Vec<String>,
}

/// What happened to one number of a bulk request.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberResult {
    pub e164: String,
    /// `added`, `existing` (yours already) or `owned_by_other_partner` (left as it is).
    pub outcome: String,
    /// `active` or `pending`; left out for another partner's entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// What a bulk request changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumbersOut {
    /// How many numbers were put on the list now.
    pub added: usize,
    /// The numbers as understood (E.164), in the order sent.
    pub numbers: Vec<String>,
    /// One result per number, in the order sent.
    pub results: Vec<NumberResult>,
}

/// A page of a call list.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesOut {
    pub items: Vec<ListedOut>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

/// One change of an entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub at: String,
    /// `partner:<id>` or `cli`.
    pub actor: String,
    /// `requested` (a bank's entry, pending), `added`, `approved` or `removed`.
    pub change: String,
}

/// A number of a call list with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryHistoryOut {
    pub e164: String,
    pub list: String,
    /// `active`, `pending`, or `removed` when it is no longer on the list.
    pub state: String,
    pub owner: String,
    pub history: Vec<ChangeOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `active` or `pending`; both when left out.
    pub state: Option<String>,
    /// Entries after this number (E.164), for paging.
    pub after: Option<String>,
    /// Entries per page, 1 to 1,000 (default 1,000).
    pub limit: Option<usize>,
}

fn e164(value: &str, field: &str) -> Result<String, ApiError> {
    PhoneNumber::parse(value)
        .map(|p| p.as_str().to_owned())
        .map_err(|e| ApiError::invalid("invalid_phone", field.to_owned(), format!("not a valid phone number: {e}")))
}

fn owned_by_other() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "number_owned_by_other_partner",
        "another partner keeps this number on the list; only that partner or an operator can change it",
    )
    .with_field("e164")
}

/// Only the kinds that keep the do-not-originate list.
fn list_keeper(partner: &Partner) -> Result<(), ApiError> {
    only(
        partner,
        &LIST_KEEPERS,
        "banks, telecom providers and operators keep the do-not-originate list",
    )
}

/// Only the kinds that keep spoofing exceptions.
fn exception_keeper(partner: &Partner) -> Result<(), ApiError> {
    only(
        partner,
        &EXCEPTION_KEEPERS,
        "telecom providers and operators keep spoofing exceptions",
    )
}

async fn put_one(state: &AppState, partner: &Partner, list: &str, number: &str) -> Result<Json<ListedOut>, ApiError> {
    let number = e164(number, "e164")?;
    let outcome = state.add_call_numbers(partner, list, std::slice::from_ref(&number)).await?.pop();
    match outcome {
        Some(CallListAdd::Added(entry)) => Ok(Json(ListedOut::from(&entry, true))),
        Some(CallListAdd::Existing(entry)) => Ok(Json(ListedOut::from(&entry, false))),
        Some(CallListAdd::OwnedByOther(_)) => Err(owned_by_other()),
        None => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the number was not stored",
        )),
    }
}

async fn delete_one(state: &AppState, partner: &Partner, list: &str, number: &str) -> Result<StatusCode, ApiError> {
    let number = e164(number, "e164")?;
    match state.remove_call_number(partner, list, &number).await? {
        CallListRemove::Removed(_) => Ok(StatusCode::NO_CONTENT),
        CallListRemove::NotFound => Err(ApiError::not_found("number on this list")),
        CallListRemove::NotOwner(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_owner",
            "another partner put this number on the list; only that partner or an operator removes it",
        )),
    }
}

async fn list_entries(state: &AppState, partner: &Partner, list: &str, query: ListQuery) -> Result<Json<EntriesOut>, ApiError> {
    let limit = query.limit.unwrap_or(MAX_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::invalid("invalid_parameter", "limit", "limit must be between 1 and 1000"));
    }
    let wanted = match query.state.as_deref() {
        None => None,
        Some(s) => Some(
            CallEntryState::from_key(s)
                .ok_or_else(|| ApiError::invalid("invalid_parameter", "state", "state must be active or pending"))?,
        ),
    };
    let entries = state.call_list_entries(partner, list).await?;
    let mut page: Vec<ListedOut> = entries
        .iter()
        .filter(|e| wanted.is_none_or(|w| e.state == w))
        .filter(|e| query.after.as_deref().is_none_or(|after| e.e164.as_str() > after))
        .take(limit + 1)
        .map(|e| ListedOut::from(e, false))
        .collect();
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|e| e.e164.clone())
    } else {
        None
    };
    Ok(Json(EntriesOut { items: page, next }))
}

async fn read_entry(state: &AppState, partner: &Partner, list: &str, number: &str) -> Result<Json<EntryHistoryOut>, ApiError> {
    let number = e164(number, "e164")?;
    let ListedNumber { entry, owner_id, history } = state
        .call_list_number(partner, list, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("number on this list"))?;
    Ok(Json(EntryHistoryOut {
        e164: number,
        list: list.to_owned(),
        state: entry.map_or("removed", |e| e.state.as_str()).to_owned(),
        owner: owner_id,
        history: history
            .into_iter()
            .map(|c| ChangeOut {
                at: c.at.to_rfc3339(),
                actor: vangnet_core::audit::organisation_of(&c.actor).to_owned(),
                change: c.change,
            })
            .collect(),
    }))
}

/// Put a number on the do-not-originate list: a call presenting it as caller is blocked.
///
/// Telecom providers' and operators' entries are active at once. A bank's entry is `pending`
/// until an operator approves it (`POST …/approve`); until then calls are not screened
/// against it. The entry belongs to the partner that added it.
#[utoipa::path(
    put,
    path = "/api/v1/protected-numbers/{e164}",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164 (`+31201234567`), percent-encoded")),
    responses(
        (status = 200, description = "On the list (or waiting for approval: `state` is `pending`)", body = ListedOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only banks, telecom providers and operators", body = ErrorBody),
        (status = 409, description = "Another partner keeps this number on the list", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn protect(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<ListedOut>, ApiError> {
    list_keeper(&partner)?;
    put_one(&state, &partner, PROTECTED, &number).await
}

/// Put up to 1,000 numbers on the do-not-originate list at once.
///
/// One result per number: numbers another partner keeps are left as they are
/// (`owned_by_other_partner`). A bank's new entries are `pending` until an operator approves them.
#[utoipa::path(
    put,
    path = "/api/v1/protected-numbers",
    tag = "interventions",
    request_body = NumbersIn,
    responses(
        (status = 200, description = "One result per number", body = NumbersOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only banks, telecom providers and operators", body = ErrorBody),
        (status = 422, description = "A number is invalid (`field` names it) or there are more than 1,000", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn protect_many(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(input): ApiJson<NumbersIn>,
) -> Result<Json<NumbersOut>, ApiError> {
    list_keeper(&partner)?;
    if input.numbers.len() > MAX_NUMBERS {
        return Err(ApiError::invalid(
            "batch_too_large",
            "numbers",
            format!("at most {MAX_NUMBERS} numbers per request"),
        ));
    }
    let numbers = input
        .numbers
        .iter()
        .enumerate()
        .map(|(i, n)| e164(n, &format!("numbers[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes = state.add_call_numbers(&partner, PROTECTED, &numbers).await?;
    let results: Vec<NumberResult> = outcomes
        .iter()
        .map(|o| match o {
            CallListAdd::Added(e) | CallListAdd::Existing(e) => NumberResult {
                e164: e.e164.clone(),
                outcome: if matches!(o, CallListAdd::Added(_)) { "added" } else { "existing" }.to_owned(),
                state: Some(e.state.as_str().to_owned()),
            },
            CallListAdd::OwnedByOther(e) => NumberResult {
                e164: e.e164.clone(),
                outcome: "owned_by_other_partner".to_owned(),
                state: None,
            },
        })
        .collect();
    Ok(Json(NumbersOut {
        added: results.iter().filter(|r| r.outcome == "added").count(),
        numbers,
        results,
    }))
}

/// The do-not-originate entries you own (an operator: every entry).
#[utoipa::path(
    get,
    path = "/api/v1/protected-numbers",
    tag = "interventions",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of entries, by number", body = EntriesOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only banks, telecom providers and operators", body = ErrorBody),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_protected(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<EntriesOut>, ApiError> {
    list_keeper(&partner)?;
    list_entries(&state, &partner, PROTECTED, query).await
}

/// One do-not-originate entry and its history (its owner and operators; also after removal).
#[utoipa::path(
    get,
    path = "/api/v1/protected-numbers/{e164}",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164, percent-encoded")),
    responses(
        (status = 200, description = "The entry and every change to it", body = EntryHistoryOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only banks, telecom providers and operators", body = ErrorBody),
        (status = 404, description = "Not on the list, or another partner's", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read_protected(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<EntryHistoryOut>, ApiError> {
    list_keeper(&partner)?;
    read_entry(&state, &partner, PROTECTED, &number).await
}

/// Take a number off the do-not-originate list (its owner, or an operator).
#[utoipa::path(
    delete,
    path = "/api/v1/protected-numbers/{e164}",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164, percent-encoded")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not your entry, or a kind that keeps no lists", body = ErrorBody),
        (status = 404, description = "Not on the list", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unprotect(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    list_keeper(&partner)?;
    delete_one(&state, &partner, PROTECTED, &number).await
}

/// Approve a bank's pending do-not-originate entry (operators): calls are screened against it
/// from now on. Rejecting one is removing it (`DELETE`).
#[utoipa::path(
    post,
    path = "/api/v1/protected-numbers/{e164}/approve",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164, percent-encoded")),
    responses(
        (status = 200, description = "Active", body = ListedOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only operators approve", body = ErrorBody),
        (status = 404, description = "Not on the list", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<ListedOut>, ApiError> {
    only(&partner, &[PartnerKind::Operator], "operators approve do-not-originate entries")?;
    let number = e164(&number, "e164")?;
    let entry = state
        .approve_protected_number(&partner, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("number on this list"))?;
    Ok(Json(ListedOut::from(&entry, false)))
}

/// Exempt a number from the spoofing rule (an own subscriber roaming abroad).
#[utoipa::path(
    put,
    path = "/api/v1/spoofing-exceptions/{e164}",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164, percent-encoded")),
    responses(
        (status = 200, description = "Exempted", body = ListedOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only telecom providers and operators", body = ErrorBody),
        (status = 409, description = "Another partner keeps this exception", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn except(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<ListedOut>, ApiError> {
    exception_keeper(&partner)?;
    put_one(&state, &partner, EXCEPTION, &number).await
}

/// The spoofing exceptions you own (an operator: every one).
#[utoipa::path(
    get,
    path = "/api/v1/spoofing-exceptions",
    tag = "interventions",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of exceptions, by number", body = EntriesOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only telecom providers and operators", body = ErrorBody),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_exceptions(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<EntriesOut>, ApiError> {
    exception_keeper(&partner)?;
    list_entries(&state, &partner, EXCEPTION, query).await
}

/// One spoofing exception and its history (its owner and operators).
#[utoipa::path(
    get,
    path = "/api/v1/spoofing-exceptions/{e164}",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164, percent-encoded")),
    responses(
        (status = 200, description = "The exception and every change to it", body = EntryHistoryOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only telecom providers and operators", body = ErrorBody),
        (status = 404, description = "Not exempted, or another partner's", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read_exception(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<EntryHistoryOut>, ApiError> {
    exception_keeper(&partner)?;
    read_entry(&state, &partner, EXCEPTION, &number).await
}

/// End a number's exemption from the spoofing rule (its owner, or an operator).
#[utoipa::path(
    delete,
    path = "/api/v1/spoofing-exceptions/{e164}",
    tag = "interventions",
    params(("e164" = String, Path, description = "The number, E.164, percent-encoded")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not your exception, or not a telecom provider or operator", body = ErrorBody),
        (status = 404, description = "Not exempted", body = ErrorBody),
        (status = 422, description = "Not a valid phone number", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unexcept(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    exception_keeper(&partner)?;
    delete_one(&state, &partner, EXCEPTION, &number).await
}
