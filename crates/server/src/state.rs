//! The HTTP adapter's state: the services, with what only HTTP needs (listen addresses,
//! body and connection bounds, cookie settings, the request metrics).

use std::sync::Arc;
use std::time::Duration;

use vangnet_services::Services;

use crate::connections::ConnectionLimits;
use crate::metrics::HttpMetrics;

/// Everything the server is started with: its own HTTP settings and the services'.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub http: HttpSettings,
    pub services: vangnet_services::Settings,
}

/// The HTTP side's bounds; ARCHITECTURE.md documents every one.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: std::net::SocketAddr,
    /// Where `/metrics` is served without a token (loopback by default); `None`: only on the
    /// main listener, for operators' tokens.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Bounds of client connections: time-outs and how many at once.
    pub connections: ConnectionLimits,
    /// The largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Requests handled at once; more wait.
    pub max_concurrency: usize,
    /// Time limit per request (503 `timeout` after it).
    pub request_timeout: Duration,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy
    /// that sets it); otherwise the connection's address is used.
    pub trust_forwarded_for: bool,
    /// Send cookies with `Secure` (off only for plain-http development on another host than
    /// localhost, where browsers drop secure cookies).
    pub secure_cookies: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9464))),
            connections: ConnectionLimits::default(),
            max_body_bytes: 1024 * 1024,
            max_concurrency: 1024,
            request_timeout: Duration::from_secs(30),
            trust_forwarded_for: false,
            secure_cookies: true,
        }
    }
}

/// The state every handler gets: one `Arc` (axum clones it several times per request), read
/// as the [`Services`] through `Deref`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Http>);

/// What [`AppState`] holds.
#[derive(Debug)]
struct Http {
    services: Services,
    settings: HttpSettings,
    metrics: Arc<HttpMetrics>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0.services
    }
}

impl AppState {
    pub fn new(services: Services, settings: HttpSettings, metrics: Arc<HttpMetrics>) -> AppState {
        AppState(Arc::new(Http {
            services,
            settings,
            metrics,
        }))
    }

    /// The services (to hand to another adapter, such as the stream workers).
    pub fn services(&self) -> &Services {
        &self.0.services
    }

    pub fn http(&self) -> &HttpSettings {
        &self.0.settings
    }

    pub fn http_metrics(&self) -> &Arc<HttpMetrics> {
        &self.0.metrics
    }
}
