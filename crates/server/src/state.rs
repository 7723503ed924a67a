//! The state every request handler shares.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use vangnet_core::Timestamp;
use vangnet_core::audit::subject_pseudonym;
use vangnet_core::index::IndicatorIndex;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::scoring::ScoringPolicy;
use vangnet_store::Store;

use crate::audit_sink::AuditSink;
use crate::auth::TokenCache;
use crate::limits::{Limits, Rate};
use crate::metrics::Metrics;

/// Server settings. The CLI builds them from defaults, the configuration file, the
/// environment and flags; ARCHITECTURE.md documents every bound.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: std::net::SocketAddr,
    /// The largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Requests handled at once; more wait.
    pub max_concurrency: usize,
    /// Time limit per request (503 `timeout` after it).
    pub request_timeout: Duration,
    /// Requests per second per partner organisation.
    pub partner_rate: Rate,
    /// How long an authenticated token is trusted before it is checked again (and so how
    /// long a revoked token may keep working).
    pub token_cache_ttl: Duration,
    /// How often the change feed is polled.
    pub feed_interval: Duration,
    pub scoring: ScoringPolicy,
    /// Key for the pseudonyms of indicators in the audit log; from the store when `None`.
    pub audit_key: Option<Vec<u8>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            max_concurrency: 1024,
            request_timeout: Duration::from_secs(30),
            partner_rate: Rate {
                per_second: 2_000.0,
                burst: 4_000,
            },
            token_cache_ttl: Duration::from_secs(10),
            feed_interval: Duration::from_millis(500),
            scoring: ScoringPolicy::default(),
            audit_key: None,
        }
    }
}

/// Shared state: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub index: Arc<RwLock<IndicatorIndex>>,
    pub auth: Arc<TokenCache>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub audit: AuditSink,
    pub settings: Arc<Settings>,
    audit_key: Arc<Vec<u8>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings, audit_key: Vec<u8>, audit: AuditSink, metrics: Arc<Metrics>) -> AppState {
        AppState {
            auth: Arc::new(TokenCache::new(Arc::clone(&store), settings.token_cache_ttl)),
            limits: Arc::new(Limits::new(settings.partner_rate)),
            index: Arc::new(RwLock::new(IndicatorIndex::new())),
            store,
            metrics,
            audit,
            settings: Arc::new(settings),
            audit_key: Arc::new(audit_key),
        }
    }

    pub fn index(&self) -> RwLockReadGuard<'_, IndicatorIndex> {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn index_mut(&self) -> RwLockWriteGuard<'_, IndicatorIndex> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The audit-log name of an indicator: a keyed hash, never the value.
    pub fn pseudonym(&self, kind: IndicatorKind, value: &str) -> String {
        format!("indicator:{}", subject_pseudonym(&self.audit_key, kind, value))
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    pub fn update_index_gauges(&self) {
        let (len, links, bytes) = {
            let index = self.index();
            (index.len(), index.links(), index.heap_bytes())
        };
        let g = &self.metrics.gauges;
        g.index_indicators.store(len as u64, Ordering::Relaxed);
        g.index_links.store(links as u64, Ordering::Relaxed);
        g.index_bytes.store(bytes as u64, Ordering::Relaxed);
    }
}
