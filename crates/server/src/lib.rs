//! The Vangnet HTTP adapter: the partner API, the citizen and console web pages, metrics and
//! the OpenAPI document, over the services of `vangnet-services`.
//!
//! [`Application::build`] opens the listener (port 0 works, for tests) and starts the
//! services; [`Application::run_until_stopped`] serves until the cancellation token fires,
//! then drains in-flight requests, stops the background work and flushes the audit queue.
//! [`router`] gives the same routes without a socket, for router tests.
//!
//! It must never log personal data: requests are logged by route template, never by path or
//! body.

pub mod connections;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;
pub mod scopes;
pub mod state;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use vangnet_services::{Background, Metrics, Services};
use vangnet_store::Store;

pub use error::ApiError;
pub use routes::meta::ApiDoc;
pub use state::{AppState, HttpSettings, Settings};
pub use vangnet_services::Rate;

use crate::metrics::HttpMetrics;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Services(#[from] vangnet_services::StartError),
}

/// The routes, with every middleware, over `state`.
pub fn router(state: AppState) -> Router {
    let limits = state.http();
    Router::new()
        .merge(routes::health::router())
        .merge(routes::checks::router())
        .merge(routes::reports::router())
        .merge(routes::citizen_reports::router())
        .merge(routes::indicators::router())
        .merge(routes::meta::router())
        .merge(routes::payments::router())
        .merge(routes::calls::router())
        .merge(routes::call_lists::router())
        .merge(routes::pnbf::router())
        .merge(routes::disputes::router())
        .merge(routes::subjects::router())
        .merge(routes::mules::router())
        .merge(routes::networks::router())
        .merge(web::router())
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(tower::limit::ConcurrencyLimitLayer::new(limits.max_concurrency))
        .layer(middleware::from_fn_with_state(state.http_metrics().clone(), metrics::track))
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn(web::security_headers))
        .with_state(state)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this resource does not support that method",
    )
}

/// Answers `503 timeout` when a request takes longer than the configured limit.
async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.http().request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took too long; try again").into_response(),
    }
}

/// A server that is bound and loaded, ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    background: Background,
}

impl Application {
    /// Binds the listener and starts the services (index loaded, audit writer running).
    pub async fn build(settings: Settings, store: Arc<dyn Store>) -> Result<Application, StartError> {
        let Settings { http, services } = settings;
        let listener = TcpListener::bind(http.listen)
            .await
            .map_err(|source| StartError::Bind { addr: http.listen, source })?;
        let metrics_listener = match http.metrics_listen {
            None => None,
            Some(addr) => match TcpListener::bind(addr).await {
                Ok(l) => Some(l),
                // A second process of one installation (a worker beside the server) finds the
                // port taken: it starts without its own, and its metrics stay reachable on
                // its main listener with an operator's token.
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    tracing::warn!(%addr, "the metrics address is in use; /metrics is served on the main listener for operators only");
                    None
                }
                Err(source) => return Err(StartError::Bind { addr, source }),
            },
        };
        let mut registry = prometheus_client::registry::Registry::default();
        let http_metrics = Arc::new(HttpMetrics::register(&mut registry));
        let (services, background) = Services::start(services, store, Metrics::with(registry)).await?;
        Ok(Application {
            listener,
            metrics_listener,
            state: AppState::new(services, http, http_metrics),
            background,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.state.http().listen)
    }

    /// The address `/metrics` is served on without a token, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The shared state (for tests and the demo).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The services (for another adapter in the same process, such as the stream workers).
    pub fn services(&self) -> &Services {
        self.state.services()
    }

    /// Serves until `shutdown` is cancelled, then drains and stops cleanly.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let Application {
            listener,
            metrics_listener,
            state,
            background,
        } = self;
        let background = background.run(state.services());
        let app = router(state.clone());
        let limits = state.http().connections.clone();
        let metrics_served = metrics_listener.map(|l| {
            tokio::spawn(connections::serve(
                l,
                routes::meta::metrics_router(state.clone()),
                limits.clone(),
                Arc::clone(state.http_metrics()),
                shutdown.clone(),
            ))
        });
        connections::serve(listener, app, limits, Arc::clone(state.http_metrics()), shutdown.clone()).await;
        if let Some(task) = metrics_served {
            let _ = task.await;
        }
        tracing::info!("no longer accepting requests; finishing background work");
        drop(state);
        // The audit and decision writers end once every handle to the services is gone and
        // their queues are written.
        background.stop().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// A token that is cancelled on SIGTERM or Ctrl-C.
pub fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
            () = terminate => tracing::info!("SIGTERM received; shutting down"),
        }
        trigger.cancel();
    });
    token
}
