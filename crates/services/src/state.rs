//! The state every adapter shares: one [`Services`] per process, cheap to clone.

use std::sync::{Arc, RwLockReadGuard, RwLockWriteGuard};

use vangnet_core::Timestamp;
use vangnet_core::index::IndicatorIndex;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::screening::calls::CallVerdict;
use vangnet_store::{Partner, Store};

use crate::audit_sink::AuditSink;
use crate::auth::TokenCache;
use crate::limits::{Limits, RateLimiter};
use crate::metrics::Metrics;
use crate::mules::{Mules, TransactionInput};
use crate::registry::Registry;
use crate::screening::calls::{CallInput, CallScreening};
use crate::screening::{DecisionOut, PaymentInput, Screening, ScreeningError};
use crate::sessions::Sessions;
use crate::settings::Settings;

/// Shared state behind one `Arc`: the HTTP adapter clones it several times per request (every
/// layer with state, every `State` extractor), and one reference count is far cheaper to move
/// than twelve (measured in BENCHMARKS.md, benchmark 2). Fields are read through `Deref`.
#[derive(Debug, Clone)]
pub struct Services(Arc<Shared>);

/// What [`Services`] shares.
#[derive(Debug)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    /// The index and how it is read.
    pub registry: Registry,
    pub auth: TokenCache,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
    /// Rate limits of the citizen side, per client address.
    pub public_limits: PublicLimits,
    /// Signed-in partner console sessions.
    pub sessions: Sessions,
    /// Payment screening.
    pub screening: Screening,
    /// Call screening.
    pub calls: CallScreening,
    /// Money-mule detection.
    pub mules: Mules,
}

/// HMAC-SHA-256 (hex) of `data` under `key`, separated by `purpose` (see [`Services::web_mac`]).
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
    pub checks: RateLimiter<String>,
    pub reports: RateLimiter<String>,
    /// Objections through the public form (`/bezwaar`), at the report form's rate.
    pub objections: RateLimiter<String>,
}

impl std::ops::Deref for Services {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The started engines: payment and call screening and the mule detectors.
#[derive(Debug)]
pub struct Engines {
    pub screening: Screening,
    pub calls: CallScreening,
    pub mules: Mules,
}

impl Services {
    pub fn new(
        store: Arc<dyn Store>,
        settings: Arc<Settings>,
        audit_key: Vec<u8>,
        audit: AuditSink,
        metrics: Arc<Metrics>,
        engines: Engines,
    ) -> Services {
        let Engines { screening, calls, mules } = engines;
        Services(Arc::new(Shared {
            auth: TokenCache::new(Arc::clone(&store), settings.token_cache_ttl),
            limits: Limits::new(settings.partner_rate, settings.auth_failure_rate),
            registry: Registry::new(audit, audit_key, Arc::clone(&settings)),
            store,
            metrics,
            public_limits: PublicLimits {
                checks: RateLimiter::new(settings.public.check_rate, 100_000),
                reports: RateLimiter::new(settings.public.report_rate, 100_000),
                objections: RateLimiter::new(settings.public.report_rate, 100_000),
            },
            sessions: Sessions::new(settings.console.clone()),
            screening,
            calls,
            mules,
            settings,
        }))
    }

    pub fn index(&self) -> RwLockReadGuard<'_, IndicatorIndex> {
        self.registry.index()
    }

    pub fn index_mut(&self) -> RwLockWriteGuard<'_, IndicatorIndex> {
        self.registry.index_mut()
    }

    /// The audit log's writer.
    pub fn audit(&self) -> &AuditSink {
        self.registry.audit()
    }

    /// The audit-log name of an indicator: a keyed hash, never the value.
    pub fn pseudonym(&self, kind: IndicatorKind, value: &str) -> String {
        self.registry.pseudonym(kind, value)
    }

    /// A keyed hash (HMAC-SHA-256, hex) for the web side: CSRF tokens and submitter
    /// pseudonyms. `purpose` separates the uses so that one can never stand in for another.
    pub fn web_mac(&self, purpose: &str, data: &str) -> String {
        web_mac_with(self.registry.key(), purpose, data)
    }

    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// Decides one payment for `partner` (or returns the decision stored for its id before).
    pub async fn decide_payment(&self, partner: &Partner, input: &PaymentInput) -> Result<DecisionOut, ScreeningError> {
        let now = self.registry.now();
        // The accounts' pseudonyms, once for screening and the mule engine.
        let keys = self.mules.keys(&input.payer, &input.payee);
        let decided = self
            .screening
            .decide(&self.registry, &self.calls, partner, input, keys, |payee_reports| {
                self.mules.signal(keys, payee_reports, now)
            })
            .await?;
        // Every scored payment is an edge of the transaction graph (a repeated id is
        // recognised there too).
        self.mules.observe_payment(
            partner,
            &TransactionInput {
                id: input.id.clone(),
                payer: input.payer.clone(),
                payee: input.payee.clone(),
                amount: input.amount,
                received: input.amount,
                at: input.initiated_at,
            },
            keys,
        );
        Ok(decided)
    }

    /// Decides one call event for `partner` and takes it into the call state.
    pub fn decide_call(&self, partner: &Partner, input: &CallInput) -> CallVerdict {
        self.calls.decide(&self.registry, partner, input)
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
