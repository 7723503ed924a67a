//! `GET /metrics` (Prometheus) and `GET /api/openapi.json` (the OpenAPI 3.1 document).
//!
//! Metrics show business volumes and abuse counters (the honeypot's catch, refused
//! connections), so they are not public: on the main listener `/metrics` needs an operator's
//! token; without a token they are served only on the metrics listener (`metrics.listen`,
//! loopback by default), which a Prometheus on the same host or network scrapes.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use vangnet_core::PartnerKind;

use crate::error::{ApiError, ERROR_CODES, ErrorBody, ErrorDetail};
use crate::extract::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
}

/// The routes of the metrics listener: `/metrics` without a token, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(|State(state): State<AppState>| async move { exposition(&state) }))
        .fallback(|| async { ApiError::not_found("resource") })
        .layer(axum::middleware::from_fn(crate::web::security_headers))
        .with_state(state)
}

fn exposition(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}

/// Metrics in the OpenMetrics text format (operators; without a token on the metrics listener).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenMetrics text format (Prometheus reads it)", content_type = "application/openmetrics-text"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only operators", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn metrics(State(state): State<AppState>, Caller(partner): Caller) -> Result<Response, ApiError> {
    if partner.kind != PartnerKind::Operator {
        return Err(ApiError::forbidden(
            "only operators read the metrics here; they are served without a token on the metrics listener",
        ));
    }
    Ok(exposition(&state))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], ApiDoc::json())
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A partner API token (`vn_…`)"))
                    .build(),
            ),
        );
    }
}

/// Documents the answers every operation of a shape can give, so that none is left out: a
/// partner operation can answer 401 (no or wrong token) and 429 (its organisation's rate, or
/// too many wrong tokens from the address); one that takes a body 400 (not JSON, unreadable),
/// 413 (too large), 415 (wrong content type) and 422 (wrong shape); one with path or query
/// parameters 422; and every operation 503 (the store cannot be reached, or the request took
/// longer than the time limit). An operation's own description of a status is kept.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_parameters = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if secured {
                    add("401", "Missing or invalid token");
                    add(
                        "403",
                        "The token was not issued for this use (`scope_missing`, naming the scope), or the partner's kind may not do this (`forbidden`)",
                    );
                    add(
                        "429",
                        "Rate limited: the organisation's rate, or too many wrong tokens from this address (see `Retry-After`)",
                    );
                }
                if has_body {
                    add("400", "The body is not valid JSON or could not be read");
                    add("413", "Body larger than the limit");
                    add("415", "Not the content type this operation takes");
                    add("422", "The body does not have the expected shape; `field` names what is wrong");
                }
                if has_parameters {
                    add("422", "A path or query parameter is not valid; `field` names it");
                }
                add("503", "The store cannot be reached, or the request took longer than the time limit");
            }
        }
    }
}

/// Lists every stable error code, with its meaning, as the `x-error-codes` extension and in
/// the description of `ErrorDetail.code`.
struct ErrorCodes;

impl Modify for ErrorCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let table: Vec<String> = ERROR_CODES.iter().map(|(code, meaning)| format!("- `{code}`: {meaning}")).collect();
        let description = openapi.info.description.get_or_insert_with(String::new);
        description.push_str("\n\n## Error codes\n\nEvery 4xx and 5xx answer is `{\"error\": {\"code\", \"message\", \"field\"}}` with one of these stable codes:\n\n");
        description.push_str(&table.join("\n"));
        let mut extensions = utoipa::openapi::extensions::Extensions::default();
        let codes: serde_json::Map<String, serde_json::Value> = ERROR_CODES
            .iter()
            .map(|(code, meaning)| ((*code).to_owned(), serde_json::Value::String((*meaning).to_owned())))
            .collect();
        extensions.insert("x-error-codes".to_owned(), serde_json::Value::Object(codes));
        openapi.extensions.get_or_insert_with(Default::default).merge(extensions);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vangnet API",
        description = "The shared fraud-indicator registry: partners report fraud, check indicators and read records under TLP 2.0. \
                       Partner endpoints need `Authorization: Bearer TOKEN`. Time stamps are RFC 3339 in UTC; money is \
                       `{\"value\": \"250.00\", \"currency\": \"EUR\"}`. Request bodies are limited to 1 MiB by default \
                       (configurable; 413 above it) and batches to 1,000 items (422 above it)."
    ),
    paths(
        super::health::health,
        super::health::live,
        super::checks::check,
        super::indicators::read,
        super::indicators::set_status,
        super::reports::submit,
        super::reports::submit_batch,
        super::reports::read,
        super::reports::retract,
        super::citizen_reports::list,
        super::citizen_reports::review,
        crate::web::check::api,
        super::payments::score,
        super::payments::read,
        super::calls::event,
        super::call_lists::protect,
        super::call_lists::protect_many,
        super::call_lists::list_protected,
        super::call_lists::read_protected,
        super::call_lists::unprotect,
        super::call_lists::approve,
        super::call_lists::except,
        super::call_lists::list_exceptions,
        super::call_lists::read_exception,
        super::call_lists::unexcept,
        super::calls::on_call,
        super::calls::opt_out,
        super::calls::opt_in,
        super::pnbf::open,
        super::pnbf::list,
        super::pnbf::read,
        super::pnbf::event,
        super::pnbf::dossier,
        super::pnbf::new_link,
        super::pnbf::figures,
        super::pnbf::bank_codes,
        super::pnbf::set_bank_code,
        super::pnbf::remove_bank_code,
        super::disputes::open,
        super::disputes::list,
        super::disputes::read,
        super::disputes::decide,
        super::disputes::withdraw,
        super::disputes::figures,
        super::disputes::list_requests,
        super::disputes::read_request,
        super::disputes::decide_request,
        super::disputes::list_clearance,
        super::disputes::close_clearance,
        super::subjects::export,
        super::mules::ingest,
        super::mules::account,
        super::mules::alerts,
        super::networks::read,
        metrics,
        openapi,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Security, &ErrorCodes, &CommonResponses),
    tags(
        (name = "checks", description = "Checking indicators against the registry"),
        (name = "reports", description = "Filing and retracting reports"),
        (name = "interventions", description = "Payment screening for banks and payment service providers; call screening and the on-call signal with telecom providers"),
        (name = "pnbf", description = "PNBF recovery cases between the victim's bank and the payee's bank: eligibility, terms, NAW, dossier and figures"),
        (name = "disputes", description = "Disputes (bezwaar): objections to a listing, opened on the person's behalf and decided by the police or the operator; objections from the public form; reviews of cleared indicators that a new report named"),
        (name = "mules", description = "Money-mule detection: transactions into the detectors, an account's flags and mule score, and a bank's alerts"),
        (name = "public", description = "For citizens, without a token: coarse answers, rate-limited per client address"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

impl ApiDoc {
    /// The document as JSON text.
    pub fn json() -> String {
        ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    /// utoipa names a schema by its type's name alone, so two `ToSchema` types of one name in
    /// different modules would silently become one in the document (a PNBF `PartyOut` once
    /// answered under another's schema). Every name is used once.
    #[test]
    fn every_schema_name_is_used_once() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut stack = vec![crates];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if !path.ends_with("target") {
                        stack.push(path);
                    }
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("readable");
                let mut derives_schema = false;
                for line in text.lines().map(str::trim) {
                    if line.starts_with("#[derive(") && line.contains("ToSchema") {
                        derives_schema = true;
                    } else if derives_schema
                        && (line.starts_with("pub struct ") || line.starts_with("pub enum ") || line.starts_with("struct "))
                    {
                        let name = line
                            .split_whitespace()
                            .nth(if line.starts_with("pub") { 2 } else { 1 })
                            .unwrap_or("");
                        let name = name.trim_end_matches(['{', ';', '(']).split('<').next().unwrap_or("").to_owned();
                        names.entry(name).or_default().push(path.display().to_string());
                        derives_schema = false;
                    } else if !line.starts_with("#[") && !line.starts_with("///") && !line.is_empty() {
                        derives_schema = false;
                    }
                }
            }
        }
        assert!(names.len() > 20, "found the schemas: {names:?}");
        let twice: Vec<_> = names.iter().filter(|(_, files)| files.len() > 1).collect();
        assert!(twice.is_empty(), "schema names used more than once: {twice:?}");
    }
}
