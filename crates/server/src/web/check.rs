//! The public check: `GET /controleren` (the page) and `GET /api/public/check` (JSON, API.md).
//!
//! A citizen learns only a coarse answer: `reported` (with the kinds of fraud), `disputed`,
//! `not_reported` or `invalid`. No counts, no partners, no report content. Only exact
//! canonical values are looked up, so nothing can be found by partial or wildcard input, and
//! both the page and the API share one token bucket per client address, so the registry cannot
//! be walked through them.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vangnet_core::index::CheckStatus;
use vangnet_core::indicator::{Indicator, IndicatorError};
use vangnet_core::report::FraudType;

use super::{Chrome, Lang, lang_of, render, too_many};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use vangnet_wire::registry::parse_kind;

pub fn router() -> Router<AppState> {
    Router::new().route("/controleren", get(page)).route("/api/public/check", get(api))
}

/// The question: one value, and optionally its kind.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicCheckQuery {
    /// The value as the citizen has it (`NL91 ABNA 0417 1643 00`, `06-12345678`, …).
    pub value: String,
    /// iban, phone, url, domain, email, crypto or handle; detected when left out.
    pub kind: Option<String>,
    /// Language of `advice`: `nl` (default) or `en`.
    pub lang: Option<String>,
}

/// The coarse public answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCheckResult {
    /// The canonical value (or the value as given, when it is invalid).
    pub value: String,
    /// The kind, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `reported`, `not_reported`, `disputed` (reported, but the holder disputes it) or `invalid`.
    pub status: String,
    /// The kinds of fraud it was reported for (only when `reported` or `disputed`).
    pub fraud_types: Vec<String>,
    /// What to do, in plain language.
    pub advice: String,
    /// For a web address that is not reported itself: the reported domain the answer is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_for_domain: Option<String>,
    /// Why the value is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorDetail>,
}

/// The outcome of one public check, before it is rendered.
struct Outcome {
    indicator: Option<Indicator>,
    status: Result<CheckStatus, IndicatorError>,
    fraud_types: Vec<FraudType>,
    /// A URL that is not reported itself, answered for its reported domain.
    domain: Option<String>,
}

fn take_token(state: &AppState, parts: &Parts) -> Result<(), u64> {
    let key = super::client_key(parts, state);
    state.public_limits.checks.take(&key).inspect_err(|_| {
        state.metrics.counters.public_rate_limited.inc();
    })
}

/// Looks a value up for the public (audited and counted by the service).
async fn run_check(state: &AppState, kind: Option<vangnet_core::IndicatorKind>, value: &str) -> Outcome {
    match Indicator::parse(kind, value) {
        Err(e) => {
            state.count_invalid_public_check();
            Outcome {
                indicator: None,
                status: Err(e),
                fraud_types: Vec::new(),
                domain: None,
            }
        }
        Ok(indicator) => {
            let answer = state.check_for_public(&indicator).await;
            Outcome {
                indicator: Some(indicator),
                status: Ok(answer.view.status),
                fraud_types: answer.view.fraud_types,
                domain: answer.domain,
            }
        }
    }
}

/// The plain-language message for an invalid value, by kind.
pub fn invalid_message(t: &super::content::Ui, error: &IndicatorError) -> String {
    use vangnet_core::IndicatorKind as K;
    match error.kind() {
        Some(K::Iban) => t.error_iban.clone(),
        Some(K::Phone) => t.error_phone.clone(),
        Some(K::Url) => t.error_url.clone(),
        Some(K::Domain) => t.error_domain.clone(),
        Some(K::Email) => t.error_email.clone(),
        Some(K::Crypto) => t.error_crypto.clone(),
        Some(K::Handle) => t.error_handle.clone(),
        None => match error {
            IndicatorError::Empty => t.error_required.clone(),
            _ => t.error_unknown.clone(),
        },
    }
}

/// Check an indicator, for citizens.
///
/// A coarse answer only: whether the value has been reported (by enough independent reports,
/// see ARCHITECTURE.md), for which kinds of fraud, and what to do. `not_reported` does not mean
/// safe. Exact values only; rate-limited per client address (`429` with `Retry-After`).
#[utoipa::path(
    get,
    path = "/api/public/check",
    tag = "public",
    params(PublicCheckQuery),
    responses(
        (status = 200, description = "The answer (also for an invalid value: `status: invalid`)", body = PublicCheckResult),
        (status = 422, description = "No `value`, or an unknown `kind`", body = ErrorBody),
        (status = 429, description = "Too many checks from this address; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn api(State(state): State<AppState>, parts: Parts, ApiQuery(query): ApiQuery<PublicCheckQuery>) -> Response {
    if let Err(retry_after) = take_token(&state, &parts) {
        return ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many checks from this address; wait the number of seconds in Retry-After",
            )
        }
        .into_response();
    }
    let kind = match parse_kind(query.kind.as_deref(), "kind") {
        Ok(kind) => kind,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let lang = query.lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::Nl);
    let t = &lang.content().ui;
    let outcome = run_check(&state, kind, &query.value).await;
    let (status, advice, error) = match &outcome.status {
        Ok(CheckStatus::Reported) => ("reported", format!("{} {}", t.check_reported_text, t.check_advice_reported), None),
        Ok(CheckStatus::Disputed) => ("disputed", t.check_disputed_text.clone(), None),
        Ok(CheckStatus::NotReported) => ("not_reported", t.check_not_reported_text.clone(), None),
        Err(e) => {
            let api = ApiError::indicator(e, "value");
            ("invalid", invalid_message(t, e), Some(api.body().error))
        }
    };
    Json(PublicCheckResult {
        value: outcome
            .indicator
            .as_ref()
            .map_or_else(|| query.value.trim().to_owned(), |i| i.canonical().to_owned()),
        kind: outcome
            .indicator
            .as_ref()
            .map(|i| i.kind())
            .or(kind)
            .or_else(|| outcome.status.as_ref().err().and_then(IndicatorError::kind))
            .map(|k| k.as_str().to_owned()),
        status: status.to_owned(),
        fraud_types: outcome.fraud_types.iter().map(|t| t.as_str().to_owned()).collect(),
        advice,
        answered_for_domain: outcome.domain,
        error,
    })
    .into_response()
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    waarde: Option<String>,
}

/// What the page shows about the value asked.
struct PageResult {
    /// `reported`, `disputed`, `not_reported` or `invalid` (also the CSS class).
    status: &'static str,
    title: String,
    text: String,
    shown_value: String,
    kind_name: String,
    fraud_types: Vec<String>,
    /// The sentence saying the answer is about the address's domain.
    domain_note: Option<String>,
    /// The objection form for this value (when it is reported or disputed).
    objection_href: Option<String>,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    page: Chrome,
    value: String,
    result: Option<PageResult>,
    error: Option<String>,
}

async fn page(State(state): State<AppState>, parts: Parts) -> Response {
    let query: PageQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(PageQuery { waarde: None });
    let content = lang_of(&parts).content();
    let t = &content.ui;
    let value = query.waarde.unwrap_or_default();
    let mut result = None;
    let mut error = None;
    if !value.trim().is_empty() {
        if let Err(retry_after) = take_token(&state, &parts) {
            return too_many(&parts, retry_after);
        }
        let outcome = run_check(&state, None, &value).await;
        let kind_name = outcome
            .indicator
            .as_ref()
            .map(|i| content.kind(i.kind()).to_owned())
            .unwrap_or_default();
        let shown_value = outcome
            .indicator
            .as_ref()
            .map_or_else(|| value.trim().to_owned(), |i| i.canonical().to_owned());
        let fraud_types = outcome.fraud_types.iter().map(|f| content.fraud_type(*f).to_owned()).collect();
        let objection_href = outcome.indicator.as_ref().map(|i| {
            let query = serde_urlencoded::to_string([("soort", i.kind().as_str()), ("waarde", i.canonical())]).unwrap_or_default();
            format!("/bezwaar?{query}")
        });
        let domain_note = outcome
            .domain
            .as_deref()
            .map(|d| t.check_answered_for_domain.replace("{domain}", d));
        result = Some(match outcome.status {
            Ok(CheckStatus::Reported) => PageResult {
                status: "reported",
                title: t.check_reported_title.clone(),
                text: t.check_reported_text.clone(),
                shown_value,
                kind_name,
                fraud_types,
                domain_note,
                objection_href,
            },
            Ok(CheckStatus::Disputed) => PageResult {
                status: "disputed",
                title: t.check_disputed_title.clone(),
                text: t.check_disputed_text.clone(),
                shown_value,
                kind_name,
                fraud_types,
                domain_note,
                objection_href,
            },
            Ok(CheckStatus::NotReported) => PageResult {
                status: "not_reported",
                title: t.check_not_reported_title.clone(),
                text: t.check_not_reported_text.clone(),
                shown_value,
                kind_name,
                fraud_types: Vec::new(),
                domain_note: None,
                objection_href: None,
            },
            Err(e) => {
                let message = invalid_message(t, &e);
                error = Some(message.clone());
                PageResult {
                    status: "invalid",
                    title: t.check_invalid_title.clone(),
                    text: message,
                    shown_value,
                    kind_name,
                    fraud_types: Vec::new(),
                    domain_note: None,
                    objection_href: None,
                }
            }
        });
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &CheckPage {
            page: Chrome::new(&parts, &t.check_title, "check"),
            value,
            result,
            error,
        },
    )
}
