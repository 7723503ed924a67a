//! Rate limits per client through `governor` (GCRA, keyed): a request takes one cell; an
//! exhausted client is answered with the seconds until the next one. ARCHITECTURE.md ("Rate
//! limits") has the measurement behind the choice.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use vangnet_store::Partner;

/// A rate: `per_second` sustained, `burst` at once. A rate of zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    pub const UNLIMITED: Rate = Rate { per_second: 0.0, burst: 0 };

    fn is_unlimited(&self) -> bool {
        self.per_second <= 0.0
    }
}

/// Rate limits per key through `governor`'s keyed GCRA limiter (equivalent to a token bucket
/// of `burst` tokens refilled at `per_second`), bounded in keys: when `max_keys` are tracked,
/// keys whose bucket is full again (idle clients) are dropped first; if every tracked client is
/// still active, requests are refused rather than the table grown without bound. The count is
/// looked at every `max_keys / 64` takes (at most 1,024), so the table can exceed the bound by
/// that many keys.
pub struct RateLimiter<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    /// `None` for an unlimited rate.
    inner: Option<KeyedLimiter<K, C>>,
    max_keys: usize,
    /// The number of keys is looked at every `check_every` takes (counting them locks every
    /// shard of the map, which cost more than the take itself when done every time).
    check_every: usize,
    takes: AtomicUsize,
    /// Set at the last look when every tracked key was still active: takes are refused.
    full: AtomicBool,
}

type KeyedLimiter<K, C> = governor::RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

impl<K: Hash + Eq + Clone, C: Clock> std::fmt::Debug for RateLimiter<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limited", &self.inner.is_some())
            .field("max_keys", &self.max_keys)
            .field("keys", &self.len())
            .finish()
    }
}

/// The GCRA quota of a rate, or `None` for no limit.
fn quota(rate: Rate) -> Option<Quota> {
    if rate.is_unlimited() {
        return None;
    }
    let period = Duration::from_secs_f64(1.0 / rate.per_second).max(Duration::from_nanos(1));
    let burst = NonZeroU32::new(rate.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).map(|q| q.allow_burst(burst))
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        Self::with_clock(rate, max_keys, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> RateLimiter<K, C> {
    pub fn with_clock(rate: Rate, max_keys: usize, clock: C) -> Self {
        RateLimiter {
            inner: quota(rate).map(|q| governor::RateLimiter::dashmap_with_clock(q, clock)),
            max_keys,
            check_every: (max_keys / 64).clamp(1, 1024),
            takes: AtomicUsize::new(0),
            full: AtomicBool::new(false),
        }
    }

    /// How many keys are tracked now.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, governor::RateLimiter::len)
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes a token for `key`; `Err(seconds)` to wait (at least 1) when there is none.
    pub fn take(&self, key: &K) -> Result<(), u64> {
        let Some(limiter) = &self.inner else { return Ok(()) };
        if self.takes.fetch_add(1, Ordering::Relaxed).is_multiple_of(self.check_every) {
            let mut full = limiter.len() >= self.max_keys;
            if full {
                limiter.retain_recent();
                full = limiter.len() >= self.max_keys;
            }
            self.full.store(full, Ordering::Relaxed);
        }
        if self.full.load(Ordering::Relaxed) {
            // Every tracked client was active: refuse rather than grow without bound.
            return Err(1);
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

/// Wrong tokens per client address. A wrong token takes a cell (after the look-up found it
/// wrong); an address whose cells are used up is blocked until the next one is due, and a
/// blocked address is answered without a look-up. governor has no way to ask whether a take
/// would succeed without taking, so the block (the moment the next cell is due) is kept here,
/// bounded like the limiter.
#[derive(Debug)]
pub struct AuthFailures {
    limiter: RateLimiter<String>,
    blocked: Mutex<HashMap<String, Instant>>,
    max_keys: usize,
}

impl AuthFailures {
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        AuthFailures {
            limiter: RateLimiter::new(rate, max_keys),
            blocked: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    /// `Err(seconds)` while `address` is blocked.
    pub fn blocked(&self, address: &str, now: Instant) -> Result<(), u64> {
        let mut blocked = self.blocked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match blocked.get(address) {
            Some(until) if *until > now => Err(seconds(*until - now)),
            Some(_) => {
                blocked.remove(address);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a wrong token from `address`; `Err(seconds)` when that used up its cells (the
    /// address is blocked from now until the next cell is due).
    pub fn failed(&self, address: &str, now: Instant) -> Result<(), u64> {
        let Err(wait) = self.limiter.take(&address.to_owned()) else {
            return Ok(());
        };
        let mut blocked = self.blocked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if blocked.len() >= self.max_keys {
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() < self.max_keys || blocked.contains_key(address) {
            blocked.insert(address.to_owned(), now + Duration::from_secs(wait));
        }
        Err(wait)
    }
}

/// Whole seconds to wait, rounded up, at least 1.
fn seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The limits the server applies to partners.
#[derive(Debug)]
pub struct Limits {
    partners: RateLimiter<i64>,
    /// Wrong tokens per client address.
    pub auth_failures: AuthFailures,
}

impl Limits {
    pub fn new(partner_rate: Rate, auth_failure_rate: Rate) -> Self {
        Limits {
            partners: RateLimiter::new(partner_rate, 100_000),
            auth_failures: AuthFailures::new(auth_failure_rate, 100_000),
        }
    }

    /// `Some(seconds to wait)` when this partner is over its rate.
    pub fn partner_rate(&self, partner: &Partner) -> Option<u64> {
        self.partners.take(&partner.seq).err()
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(Rate { per_second: 2.0, burst: 3 }, 10, clock.clone());
        for _ in 0..3 {
            assert_eq!(limiter.take(&"a"), Ok(()));
        }
        assert_eq!(limiter.take(&"a"), Err(1));
        assert_eq!(limiter.take(&"b"), Ok(()), "buckets are per key");
        clock.advance(Duration::from_millis(600));
        assert_eq!(limiter.take(&"a"), Ok(()));
        assert!(limiter.take(&"a").is_err());
    }

    #[test]
    fn wait_is_the_time_to_the_next_token() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(Rate { per_second: 0.1, burst: 1 }, 10, clock.clone());
        assert_eq!(limiter.take(&"a"), Ok(()));
        assert_eq!(limiter.take(&"a"), Err(10));
        clock.advance(Duration::from_secs(4));
        assert_eq!(limiter.take(&"a"), Err(6));
    }

    #[test]
    fn an_address_out_of_wrong_tokens_is_blocked_until_the_next_is_due() {
        let failures = AuthFailures::new(Rate { per_second: 0.1, burst: 2 }, 10);
        let now = Instant::now();
        assert_eq!(failures.blocked("a", now), Ok(()));
        assert_eq!(failures.failed("a", now), Ok(()));
        assert_eq!(failures.failed("a", now), Ok(()));
        assert_eq!(failures.blocked("a", now), Ok(()), "not blocked before a refusal");
        let wait = failures.failed("a", now).expect_err("third wrong token");
        assert!((9..=10).contains(&wait), "{wait}");
        assert!(failures.blocked("a", now).is_err());
        assert_eq!(failures.blocked("b", now), Ok(()), "per address");
        assert_eq!(failures.blocked("a", now + Duration::from_secs(11)), Ok(()), "the block ends");
    }

    #[test]
    fn unlimited_and_bounded() {
        let unlimited = RateLimiter::new(Rate::UNLIMITED, 1);
        for i in 0..100 {
            assert_eq!(unlimited.take(&i), Ok(()));
        }
        assert!(unlimited.is_empty());
        let clock = FakeRelativeClock::default();
        let bounded = RateLimiter::with_clock(Rate { per_second: 1.0, burst: 1 }, 2, clock.clone());
        assert_eq!(bounded.take(&1), Ok(()));
        assert_eq!(bounded.take(&2), Ok(()));
        assert_eq!(bounded.take(&3), Err(1), "two active clients fill the table");
        assert_eq!(bounded.len(), 2);
        clock.advance(Duration::from_secs(5));
        assert_eq!(bounded.take(&3), Ok(()), "idle buckets make room");
        assert_eq!(bounded.len(), 1);
    }
}
