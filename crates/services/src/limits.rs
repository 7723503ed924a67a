//! Rate limits: a token bucket per client. Refilled continuously; a request takes one token;
//! an empty bucket answers with the seconds until the next token.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// Token buckets per key, bounded in number: when `max_keys` is reached, buckets that are
/// full again (idle clients) are dropped first.
#[derive(Debug)]
pub struct RateLimiter<K> {
    rate: Rate,
    max_keys: usize,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        RateLimiter {
            rate,
            max_keys,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has a token left at `now`, without taking it; `Err(seconds)` to wait.
    pub fn peek(&self, key: &K, now: Instant) -> Result<(), u64> {
        if self.rate.is_unlimited() {
            return Ok(());
        }
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(bucket) = buckets.get(key) else { return Ok(()) };
        let capacity = f64::from(self.rate.burst.max(1));
        let tokens = (bucket.tokens + now.saturating_duration_since(bucket.refilled).as_secs_f64() * self.rate.per_second).min(capacity);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate.per_second).as_secs().max(1))
        }
    }

    /// Takes a token for `key` at `now`; `Err(seconds)` to wait when there is none.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), u64> {
        if self.rate.is_unlimited() {
            return Ok(());
        }
        let capacity = f64::from(self.rate.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= self.max_keys && !buckets.contains_key(key) {
            let rate = self.rate.per_second;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.refilled).as_secs_f64() * rate < capacity);
            if buckets.len() >= self.max_keys {
                // Every tracked client is active: refuse newcomers rather than grow without bound.
                return Err(1);
            }
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate.per_second).min(capacity);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate.per_second);
            Err(wait.as_secs().max(1))
        }
    }
}

/// The limits the server applies to partners.
#[derive(Debug)]
pub struct Limits {
    partners: RateLimiter<i64>,
    /// Wrong tokens per client address.
    pub auth_failures: RateLimiter<String>,
}

impl Limits {
    pub fn new(partner_rate: Rate, auth_failure_rate: Rate) -> Self {
        Limits {
            partners: RateLimiter::new(partner_rate, 100_000),
            auth_failures: RateLimiter::new(auth_failure_rate, 100_000),
        }
    }

    /// `Some(seconds to wait)` when this partner is over its rate.
    pub fn partner_rate(&self, partner: &Partner) -> Option<u64> {
        self.partners.take(&partner.seq, Instant::now()).err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills() {
        let limiter = RateLimiter::new(Rate { per_second: 2.0, burst: 3 }, 10);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(&"a", start), Ok(()));
        }
        assert_eq!(limiter.take(&"a", start), Err(1));
        assert_eq!(limiter.take(&"b", start), Ok(()), "buckets are per key");
        assert_eq!(limiter.take(&"a", start + Duration::from_millis(600)), Ok(()));
        assert!(limiter.take(&"a", start + Duration::from_millis(600)).is_err());
    }

    #[test]
    fn unlimited_and_bounded() {
        let unlimited = RateLimiter::new(Rate::UNLIMITED, 1);
        let now = Instant::now();
        for i in 0..100 {
            assert_eq!(unlimited.take(&i, now), Ok(()));
        }
        let bounded = RateLimiter::new(Rate { per_second: 1.0, burst: 1 }, 2);
        assert_eq!(bounded.take(&1, now), Ok(()));
        assert_eq!(bounded.take(&2, now), Ok(()));
        assert_eq!(bounded.take(&3, now), Err(1), "two active clients fill the table");
        assert_eq!(bounded.take(&3, now + Duration::from_secs(5)), Ok(()), "idle buckets make room");
    }
}
