//! The Vangnet HTTP server: the partner API, metrics and the OpenAPI document.
//!
//! [`Application::build`] opens the listener (port 0 works, for tests) and loads the index;
//! [`Application::run_until_stopped`] serves until the cancellation token fires, then drains
//! in-flight requests, stops the change-feed follower and flushes the audit queue.
//! [`router`] gives the same routes without a socket, for router tests.
//!
//! This crate is the only one that knows JSON wire types. It must never log personal data:
//! requests are logged by route template, never by path or body.

pub mod audit_sink;
pub mod auth;
pub mod citizen_reports;
pub mod connections;
pub mod error;
pub mod extract;
pub mod feed;
pub mod limits;
pub mod metrics;
pub mod pnbf;
pub mod routes;
pub mod screening;
pub mod state;
pub mod web;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use vangnet_core::token::random_secret;
use vangnet_store::Store;

pub use error::ApiError;
pub use limits::Rate;
pub use routes::meta::ApiDoc;
pub use state::{AppState, Settings};

use crate::audit_sink::AuditSink;
use crate::feed::FeedCursor;
use crate::metrics::Metrics;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] vangnet_store::StoreError),
    #[error("{0}")]
    Randomness(String),
    #[error("payment rules: {0}")]
    Rules(String),
    #[error(
        "the NAW key in {file} (fingerprint {found}) is not the key this database's NAW was sealed with (fingerprint {expected}); \
         start with the original key file (pnbf.naw_key_file)"
    )]
    NawKey { file: String, expected: String, found: String },
}

/// The routes, with every middleware, over `state`.
pub fn router(state: AppState) -> Router {
    let limits = &state.settings;
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
        .merge(web::router())
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(tower::limit::ConcurrencyLimitLayer::new(limits.max_concurrency))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
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
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took too long; try again").into_response(),
    }
}

/// Refuses to start with another NAW key than the one the database first saw: NAW sealed
/// under the old key could no longer be read. Only a fingerprint of the key is stored.
async fn check_naw_key(store: &dyn Store, settings: &Settings) -> Result<(), StartError> {
    let Some(key) = &settings.pnbf.naw_key else { return Ok(()) };
    let fingerprint = state::web_mac_with(key, "naw-key-fingerprint", "")[..16].to_owned();
    let stored = store.setting_or_insert("pnbf_naw_key_fingerprint", &fingerprint).await?;
    if stored == fingerprint {
        Ok(())
    } else {
        Err(StartError::NawKey {
            file: settings
                .pnbf
                .naw_key_file
                .as_ref()
                .map_or_else(|| "the configured key".to_owned(), |p| p.display().to_string()),
            expected: stored,
            found: fingerprint,
        })
    }
}

/// The audit pseudonym key: from the settings, or made once and kept in the store.
pub async fn audit_key(store: &dyn Store, settings: &Settings) -> Result<Vec<u8>, StartError> {
    if let Some(key) = &settings.audit_key {
        return Ok(key.clone());
    }
    let fresh = hex::encode(random_secret(32).map_err(|e| StartError::Randomness(e.to_string()))?);
    let stored = store.setting_or_insert("audit_subject_key", &fresh).await?;
    Ok(stored.into_bytes())
}

/// A server that is bound and loaded, ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    cursor: FeedCursor,
    audit_task: tokio::task::JoinHandle<()>,
    decision_task: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Binds the listener, loads the index and starts the audit writer.
    pub async fn build(settings: Settings, store: Arc<dyn Store>) -> Result<Application, StartError> {
        let listener = TcpListener::bind(settings.listen).await.map_err(|source| StartError::Bind {
            addr: settings.listen,
            source,
        })?;
        let metrics_listener = match settings.metrics_listen {
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
        let key = audit_key(store.as_ref(), &settings).await?;
        check_naw_key(store.as_ref(), &settings).await?;
        let metrics = Arc::new(Metrics::default());
        let rules = screening::RulesHandle::load(settings.screening.rules_file.as_deref()).map_err(StartError::Rules)?;
        let (screening, decision_task) =
            screening::Screening::start(Arc::clone(&store), rules, &key, settings.screening.max_state_entries).await?;
        let calls = screening::calls::CallScreening::start(store.as_ref(), &settings.calls).await?;
        let (audit, audit_task) = AuditSink::start(Arc::clone(&store), Arc::clone(&metrics), settings.audit_hits_window);
        let state = AppState::new(store, settings, key, audit, metrics, Arc::new(screening), Arc::new(calls));
        let cursor = feed::load(&state).await?;
        Ok(Application {
            listener,
            metrics_listener,
            state,
            cursor,
            audit_task,
            decision_task,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.state.settings.listen)
    }

    /// The address `/metrics` is served on without a token, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The shared state (for tests and the demo).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` is cancelled, then drains and stops cleanly.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let Application {
            listener,
            metrics_listener,
            state,
            cursor,
            audit_task,
            decision_task,
        } = self;
        let follower_stop = CancellationToken::new();
        let follower = tokio::spawn(feed::follow(state.clone(), cursor, follower_stop.clone()));
        let calls_state = state.calls.clone();
        let calls_stop = follower_stop.clone();
        let calls_expiry = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = calls_stop.cancelled() => return,
                    () = tokio::time::sleep(std::time::Duration::from_secs(60)) => calls_state.expire(vangnet_core::Timestamp::now()),
                }
            }
        });
        let rules_watch = tokio::spawn(
            state
                .screening
                .rules
                .clone()
                .watch(state.settings.screening.rules_reload, follower_stop.clone()),
        );
        let pnbf_scheduler = tokio::spawn(pnbf::scheduler(state.clone(), follower_stop.clone()));
        let app = router(state.clone());
        let limits = state.settings.connections.clone();
        let metrics_served = metrics_listener.map(|l| {
            tokio::spawn(connections::serve(
                l,
                routes::meta::metrics_router(state.clone()),
                limits.clone(),
                Arc::clone(&state.metrics),
                shutdown.clone(),
            ))
        });
        connections::serve(listener, app, limits, Arc::clone(&state.metrics), shutdown.clone()).await;
        if let Some(task) = metrics_served {
            let _ = task.await;
        }
        let served: std::io::Result<()> = Ok(());
        tracing::info!("no longer accepting requests; finishing background work");
        follower_stop.cancel();
        let _ = follower.await;
        let _ = rules_watch.await;
        let _ = calls_expiry.await;
        let _ = pnbf_scheduler.await;
        drop(state);
        // The audit and decision writers end once every handle to them is gone and their
        // queues are written.
        let _ = audit_task.await;
        let _ = decision_task.await;
        tracing::info!("stopped");
        served
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
