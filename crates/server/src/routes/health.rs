//! `GET /healthz`: whether the server can reach its store (readiness). `GET /livez`: whether
//! the process answers at all (liveness); it touches nothing, so it is also the floor the
//! HTTP benchmark compares the check endpoint with.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health)).route("/livez", get(live))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the store answers, `unavailable` when it does not.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/livez", tag = "operations", responses((status = 200, description = "The process answers", body = Health)))]
pub async fn live() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Health of the server and its store.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses(
    (status = 200, description = "The store answers", body = Health),
    (status = 503, description = "The store does not answer", body = Health),
))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable" }))
        }
    }
}
