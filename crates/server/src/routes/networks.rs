//! `GET /api/v1/networks/{kind}/{value}`: the network around one indicator (API.md
//! "Networks").

use axum::extract::State;
use axum::http::header::HeaderName;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use vangnet_core::indicator::Indicator;
use vangnet_services::networks::{self, DEFAULT_DEPTH, DEFAULT_NODES, NetworkError};
use vangnet_wire::networks::NetworkOut;
use vangnet_wire::registry::parse_kind;

use super::NO_STORE;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/networks/{kind}/{value}", get(read))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NetworkQuery {
    /// Links to follow from the indicator: 1 to 4 (default 2).
    pub depth: Option<u8>,
    /// The most indicators in the answer: 1 to 200 (default 50).
    pub max_nodes: Option<usize>,
}

impl From<NetworkError> for ApiError {
    fn from(e: NetworkError) -> ApiError {
        match e {
            NetworkError::Depth => ApiError::invalid("invalid_parameter", "depth", e.to_string()),
            NetworkError::Nodes => ApiError::invalid("invalid_parameter", "max_nodes", e.to_string()),
            NetworkError::Store(s) => s.into(),
        }
    }
}

/// The network around an indicator.
///
/// Indicators are linked when a report names them together (an IBAN and a phone number of one
/// fake seller); a URL and the domain derived from it are not a link by themselves. The answer
/// holds what this partner may see: a link exists only through reports it may see under TLP
/// (and that are not retracted, past retention or unverified citizen reports). Nodes come with
/// their check result; edges with the number of such reports and the latest date. Breadth
/// first from the indicator, up to `depth` links and `max_nodes` indicators; `truncated` says
/// more was in reach. Every read is audited, for each indicator shown.
#[utoipa::path(
    get,
    path = "/api/v1/networks/{kind}/{value}",
    tag = "checks",
    params(
        ("kind" = String, Path, description = "iban, phone, url, domain, email, crypto or handle"),
        ("value" = String, Path, description = "The value, percent-encoded"),
        NetworkQuery,
    ),
    responses(
        (status = 200, description = "The network", body = NetworkOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 422, description = "Not a valid indicator, or depth or max_nodes out of range", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath((kind, value)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<NetworkQuery>,
) -> Result<([(HeaderName, &'static str); 1], Json<NetworkOut>), ApiError> {
    let kind = parse_kind(Some(&kind), "kind")?;
    let indicator = Indicator::parse(kind, &value).map_err(|e| ApiError::indicator(&e, "value"))?;
    let depth = query.depth.unwrap_or(DEFAULT_DEPTH);
    let max_nodes = query.max_nodes.unwrap_or(DEFAULT_NODES);
    // The service checks both bounds; its errors name the parameter.
    let answer = networks::network(&state, &partner, &indicator, depth, max_nodes).await?;
    Ok((NO_STORE, Json(NetworkOut::from(&answer))))
}
