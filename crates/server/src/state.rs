//! The state every request handler shares.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use vangnet_core::Timestamp;
use vangnet_core::audit::subject_pseudonym;
use vangnet_core::index::{IndicatorIndex, PublicThreshold};
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
    /// Where `/metrics` is served without a token (loopback by default); `None`: only on the
    /// main listener, for operators' tokens.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Bounds of client connections: time-outs and how many at once.
    pub connections: crate::connections::ConnectionLimits,
    /// The largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Requests handled at once; more wait.
    pub max_concurrency: usize,
    /// Time limit per request (503 `timeout` after it).
    pub request_timeout: Duration,
    /// Requests per second per partner organisation.
    pub partner_rate: Rate,
    /// Wrong or unknown tokens per client address (then 429 until the bucket refills).
    pub auth_failure_rate: Rate,
    /// How long an authenticated token is trusted before it is checked again (and so how
    /// long a revoked token may keep working).
    pub token_cache_ttl: Duration,
    /// How often the change feed is polled.
    pub feed_interval: Duration,
    pub scoring: ScoringPolicy,
    /// Key for the pseudonyms of indicators in the audit log; from the store when `None`.
    pub audit_key: Option<Vec<u8>>,
    /// Check hits of one partner on one indicator within this window make one audit entry.
    pub audit_hits_window: Duration,
    /// The citizen pages and the public check.
    pub public: PublicSettings,
    /// The partner console in the browser.
    pub console: ConsoleSettings,
    /// Payment screening.
    pub screening: ScreeningSettings,
    /// Call screening and the on-call signal.
    pub calls: crate::screening::calls::CallSettings,
    /// The PNBF recovery procedure.
    pub pnbf: PnbfSettings,
    /// The platform's clock: the system clock, moved on by tests (shared by every copy of
    /// these settings, so that a restarted server keeps the time).
    pub clock: Arc<Clock>,
}

/// The PNBF recovery procedure: its terms and the key that protects the NAW.
#[derive(Clone)]
pub struct PnbfSettings {
    pub procedure: vangnet_core::pnbf::Procedure,
    /// The 32-byte key that encrypts the payee's name and address at rest
    /// (ChaCha20-Poly1305). Without it the NAW cannot be entered or read.
    pub naw_key: Option<[u8; 32]>,
    /// The file the key was read from, to name in messages.
    pub naw_key_file: Option<std::path::PathBuf>,
    /// How often the scheduler looks for terms, reminders and NAW deletions that are due.
    pub tick: Duration,
}

impl std::fmt::Debug for PnbfSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PnbfSettings")
            .field("procedure", &self.procedure)
            .field("naw_key", &self.naw_key.map(|_| "(set)"))
            .field("naw_key_file", &self.naw_key_file)
            .field("tick", &self.tick)
            .finish()
    }
}

impl Default for PnbfSettings {
    fn default() -> Self {
        PnbfSettings {
            procedure: vangnet_core::pnbf::Procedure::default(),
            naw_key: None,
            naw_key_file: None,
            tick: Duration::from_secs(60),
        }
    }
}

/// The time the platform goes by: the system clock plus an offset that only tests move.
#[derive(Debug, Default)]
pub struct Clock {
    offset_millis: std::sync::atomic::AtomicI64,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        Timestamp::now().plus_millis(self.offset_millis.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (tests: a term passing).
    pub fn advance(&self, by: Duration) {
        self.shift(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
    }

    /// Moves the clock by a signed number of milliseconds (the demo back-dates its cases
    /// before it serves, then puts the clock right again).
    pub fn shift(&self, millis: i64) {
        self.offset_millis.fetch_add(millis, Ordering::Relaxed);
    }
}

/// Payment screening: where the rules come from and how much state is kept in memory.
#[derive(Debug, Clone)]
pub struct ScreeningSettings {
    /// A rules file (`rules/payments.toml` documents the format); the built-in rules when `None`.
    pub rules_file: Option<std::path::PathBuf>,
    /// How often the rules file is checked for changes.
    pub rules_reload: Duration,
    /// Payer profiles and account histories held in memory (each kind); the least recently
    /// loaded are dropped first and read again from the store at the next start.
    pub max_state_entries: usize,
}

impl Default for ScreeningSettings {
    fn default() -> Self {
        ScreeningSettings {
            rules_file: None,
            rules_reload: Duration::from_secs(2),
            max_state_entries: 2_000_000,
        }
    }
}

/// Bounds and thresholds of the public (citizen) side.
#[derive(Debug, Clone)]
pub struct PublicSettings {
    /// When the public check answers `reported`.
    pub threshold: PublicThreshold,
    /// Public checks (page and API together) per client address.
    pub check_rate: Rate,
    /// Report-form submissions per client address.
    pub report_rate: Rate,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy
    /// that sets it); otherwise the connection's address is used.
    pub trust_forwarded_for: bool,
    /// Send cookies with `Secure` (off only for plain-http development on another host than
    /// localhost, where browsers drop secure cookies).
    pub secure_cookies: bool,
}

impl Default for PublicSettings {
    fn default() -> Self {
        PublicSettings {
            threshold: PublicThreshold::default(),
            check_rate: Rate {
                per_second: 0.5,
                burst: 20,
            },
            report_rate: Rate {
                per_second: 1.0 / 60.0,
                burst: 5,
            },
            trust_forwarded_for: false,
            secure_cookies: true,
        }
    }
}

/// Sessions of the partner console.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// A session ends this long after sign-in.
    pub session_ttl: Duration,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// The most sessions held at once (oldest dropped first).
    pub max_sessions: usize,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            session_ttl: Duration::from_secs(8 * 3600),
            idle_timeout: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9464))),
            connections: crate::connections::ConnectionLimits::default(),
            max_body_bytes: 1024 * 1024,
            max_concurrency: 1024,
            request_timeout: Duration::from_secs(30),
            partner_rate: Rate {
                per_second: 2_000.0,
                burst: 4_000,
            },
            auth_failure_rate: Rate {
                per_second: 1.0,
                burst: 20,
            },
            token_cache_ttl: Duration::from_secs(10),
            feed_interval: Duration::from_millis(500),
            scoring: ScoringPolicy::default(),
            audit_key: None,
            audit_hits_window: Duration::from_secs(60),
            public: PublicSettings::default(),
            console: ConsoleSettings::default(),
            screening: ScreeningSettings::default(),
            calls: crate::screening::calls::CallSettings::default(),
            pnbf: PnbfSettings::default(),
            clock: Arc::new(Clock::default()),
        }
    }
}

/// Shared state behind one `Arc`: axum clones it several times per request (every layer with
/// state, every `State` extractor), and one reference count is far cheaper to move than twelve
/// (measured in BENCHMARKS.md, benchmark 2). Fields are read through `Deref`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub index: Arc<RwLock<IndicatorIndex>>,
    pub auth: Arc<TokenCache>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub audit: AuditSink,
    pub settings: Arc<Settings>,
    /// Rate limits of the citizen side, per client address.
    pub public_limits: Arc<PublicLimits>,
    /// Signed-in partner console sessions.
    pub sessions: Arc<crate::web::session::Sessions>,
    /// Payment screening.
    pub screening: Arc<crate::screening::Screening>,
    /// Call screening.
    pub calls: Arc<crate::screening::calls::CallScreening>,
    audit_key: Arc<Vec<u8>>,
}

/// HMAC-SHA-256 (hex) of `data` under `key`, separated by `purpose` (see [`AppState::web_mac`]).
pub fn web_mac_with(key: &[u8], purpose: &str, data: &str) -> String {
    use hmac::{KeyInit, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The token buckets of the public side, keyed by client address.
#[derive(Debug)]
pub struct PublicLimits {
    pub checks: crate::limits::RateLimiter<String>,
    pub reports: crate::limits::RateLimiter<String>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        settings: Settings,
        audit_key: Vec<u8>,
        audit: AuditSink,
        metrics: Arc<Metrics>,
        screening: Arc<crate::screening::Screening>,
        calls: Arc<crate::screening::calls::CallScreening>,
    ) -> AppState {
        AppState(Arc::new(Shared {
            auth: Arc::new(TokenCache::new(Arc::clone(&store), settings.token_cache_ttl)),
            limits: Arc::new(Limits::new(settings.partner_rate, settings.auth_failure_rate)),
            index: Arc::new(RwLock::new(IndicatorIndex::new())),
            store,
            metrics,
            audit,
            public_limits: Arc::new(PublicLimits {
                checks: crate::limits::RateLimiter::new(settings.public.check_rate, 100_000),
                reports: crate::limits::RateLimiter::new(settings.public.report_rate, 100_000),
            }),
            sessions: Arc::new(crate::web::session::Sessions::new(settings.console.clone())),
            screening,
            calls,
            settings: Arc::new(settings),
            audit_key: Arc::new(audit_key),
        }))
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

    /// A keyed hash (HMAC-SHA-256, hex) for the web side: CSRF tokens and submitter
    /// pseudonyms. `purpose` separates the uses so that one can never stand in for another.
    pub fn web_mac(&self, purpose: &str, data: &str) -> String {
        web_mac_with(&self.audit_key, purpose, data)
    }

    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    pub fn update_index_gauges(&self) {
        let (len, links, bytes) = {
            let index = self.index();
            (index.len(), index.links(), index.heap_bytes())
        };
        let g = &self.metrics.gauges;
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        g.index_indicators.set(gauge(len));
        g.index_links.set(gauge(links));
        g.index_bytes.set(gauge(bytes));
    }
}
