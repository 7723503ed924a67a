//! `vangnet bench limits`: the rate limiter (`vangnet_services::limits`, governor's keyed GCRA
//! with Vangnet's bound on tracked keys) beside two baselines in the same run: bare governor
//! (what the key bound costs) and a token bucket per key in one mutex-guarded hash map (the
//! limiter Vangnet had before, rebuilt here as the plain alternative). Workloads as the server
//! has them:
//!
//! - one key taken from every thread (one partner sending as fast as it can);
//! - many keys (client addresses of the public check), each taken a few times;
//! - a flood of new keys (an address-spraying client): how many keys each limiter holds after.
//!
//! The rate is high enough that every take succeeds in the first two, so the figures are the
//! cost of a take, not of refusals.

use std::collections::HashMap;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{Quota, RateLimiter as Governor};
use vangnet_services::Rate;
use vangnet_services::limits::RateLimiter;

/// The key bound the server gives every limiter.
const MAX_KEYS: usize = 100_000;

/// The plain alternative: a token bucket per key under one mutex, refilled on every take.
struct MutexBuckets {
    rate: Rate,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl MutexBuckets {
    fn take(&self, key: &str) -> bool {
        let now = Instant::now();
        let capacity = f64::from(self.rate.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(key.to_owned()).or_insert((capacity, now));
        bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * self.rate.per_second).min(capacity);
        bucket.1 = now;
        let ok = bucket.0 >= 1.0;
        if ok {
            bucket.0 -= 1.0;
        }
        ok
    }
}

/// Which key the `i`-th take of thread `t` uses.
type KeyOf<'a> = dyn Fn(usize, usize) -> &'a String + Sync + 'a;

/// Runs `work(thread, i)` for `i` in `0..per_thread` on `threads` threads; nanoseconds per call.
fn timed(threads: usize, per_thread: usize, work: &(dyn Fn(usize, usize) + Sync)) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for i in 0..per_thread {
                    work(t, i);
                }
            });
        }
    });
    started.elapsed().as_secs_f64() * 1e9 / (threads * per_thread) as f64
}

pub fn run(takes: usize, runs: usize) -> anyhow::Result<()> {
    let rate = Rate {
        per_second: 1e9,
        burst: 1_000_000,
    };
    let burst = NonZeroU32::new(rate.burst).ok_or_else(|| anyhow::anyhow!("zero burst"))?;
    let quota = Quota::with_period(Duration::from_nanos(1))
        .ok_or_else(|| anyhow::anyhow!("zero period"))?
        .allow_burst(burst);
    let keys: Vec<String> = (0..MAX_KEYS / 2)
        .map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    let one_key = "partner-7".to_owned();
    let pick = |t: usize, i: usize| &keys[(i.wrapping_mul(2_654_435_761) + t * 7919) % keys.len()];
    let threads_max = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(2);
    println!("rate limiter: {takes} takes per row and thread, median of {runs} interleaved runs, up to {threads_max} threads");
    println!(
        "{:<32} {:>7} {:>16} {:>16} {:>18}",
        "workload (ns per take)", "threads", "vangnet", "bare governor", "baseline: mutex map"
    );
    for threads in 1..=threads_max {
        let mut one = [Vec::new(), Vec::new(), Vec::new()];
        let mut many = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..runs {
            let single = |_: usize, _: usize| &one_key;
            let spread = |t: usize, i: usize| pick(t, i);
            for (workload, key_of) in [(&mut one, &single as &KeyOf<'_>), (&mut many, &spread as &KeyOf<'_>)] {
                let ours: RateLimiter<String> = RateLimiter::new(rate, MAX_KEYS);
                let bare = Governor::keyed(quota);
                let plain = MutexBuckets {
                    rate,
                    buckets: Mutex::new(HashMap::new()),
                };
                workload[0].push(timed(threads, takes, &|t, i| {
                    black_box(ours.take(key_of(t, i)).is_ok());
                }));
                workload[1].push(timed(threads, takes, &|t, i| {
                    black_box(bare.check_key(key_of(t, i)).is_ok());
                }));
                workload[2].push(timed(threads, takes, &|t, i| {
                    black_box(plain.take(key_of(t, i)));
                }));
            }
        }
        for (name, [ours, bare, plain]) in [
            ("one key (one partner)".to_owned(), one),
            (format!("{} keys (client addresses)", keys.len()), many),
        ] {
            println!(
                "{name:<32} {threads:>7} {:>16.1} {:>16.1} {:>18.1}",
                super::median(ours),
                super::median(bare),
                super::median(plain)
            );
        }
    }
    // A client spraying new addresses: Vangnet's limiter holds at most MAX_KEYS (idle keys go
    // first); bare governor keeps every key until `retain_recent` is called.
    let strict = Rate { per_second: 1.0, burst: 5 };
    let ours: RateLimiter<String> = RateLimiter::new(strict, MAX_KEYS);
    let bare = Governor::keyed(Quota::per_second(NonZeroU32::MIN).allow_burst(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN)));
    let flood = 1_000_000usize;
    let (mut ours_refused, mut bare_refused) = (0usize, 0usize);
    for i in 0..flood {
        let key = format!("spray-{i}");
        ours_refused += usize::from(ours.take(&key).is_err());
        bare_refused += usize::from(bare.check_key(&key).is_err());
    }
    println!(
        "flood of {flood} new keys in about a second: vangnet holds {} keys ({ours_refused} refused while every tracked key was active), bare governor holds {} ({bare_refused} refused)",
        ours.len(),
        bare.len()
    );
    Ok(())
}
