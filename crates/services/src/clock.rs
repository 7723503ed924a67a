//! The time the platform goes by.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use vangnet_core::Timestamp;

/// The system clock plus an offset that only tests (and the demo) move.
#[derive(Debug, Default)]
pub struct Clock {
    offset_millis: AtomicI64,
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
