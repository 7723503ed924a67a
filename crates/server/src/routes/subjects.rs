//! `GET /api/v1/subjects/{kind}/{value}/export`: everything Vangnet holds about one indicator,
//! for the person it concerns (AVG article 15), as JSON or as a printable page in plain Dutch.
//! The police and the operator; the token needs the `export` scope. Audited as a
//! subject-access request.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;
use vangnet_core::indicator::Indicator;
use vangnet_wire::registry::parse_kind;
use vangnet_wire::subjects::{SubjectExportOut, export_out};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/subjects/{kind}/{value}/export", get(export))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default) or `html` (a printable page in Dutch, with English).
    pub format: Option<String>,
}

/// Everything held about one indicator.
///
/// Each report naming it (date, fraud type, source kind, TLP, its text where the requester may
/// read it under TLP, when it is deleted), the status history, disputes, objections and
/// clearance reviews, and every access recorded in the audit log with the partner and the
/// time, earlier exports included. The export is audited, so the next one lists it.
#[utoipa::path(
    get,
    path = "/api/v1/subjects/{kind}/{value}/export",
    tag = "disputes",
    params(
        ("kind" = String, Path, description = "iban, phone, url, domain, email, crypto or handle"),
        ("value" = String, Path, description = "The value, percent-encoded"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "The export (JSON, or the printable page with `format=html`)", content(
            (SubjectExportOut = "application/json"),
            (String = "text/html"),
        )),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Only the police and the operator; or the token lacks the `export` scope", body = ErrorBody),
        (status = 422, description = "Not a valid indicator of that kind, or an unknown format", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath((kind, value)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let html = match query.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::invalid("invalid_parameter", "format", "format must be json or html")),
    };
    let kind = parse_kind(Some(&kind), "kind")?;
    let indicator = Indicator::parse(kind, &value).map_err(|e| ApiError::indicator(&e, "value"))?;
    let export = state.export_subject(&partner, &indicator).await?;
    let out = export_out(&export);
    Ok(if html {
        crate::web::subjects::export_page(&out).into_response()
    } else {
        (crate::routes::NO_STORE, axum::Json(out)).into_response()
    })
}
