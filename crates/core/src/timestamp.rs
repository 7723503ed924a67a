//! Points in time, in UTC, with millisecond precision.
//!
//! Stored and compared as milliseconds since the Unix epoch; written as RFC 3339 with a `Z`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A point in time in UTC, millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// The earliest time Vangnet accepts: 1 January 1970. Fraud reports are never older.
const MIN_MILLIS: i64 = 0;
/// The latest time Vangnet accepts: 1 January 3000, far beyond any real report.
const MAX_MILLIS: i64 = 32_503_680_000_000;

/// Why a text is not an acceptable time stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("not an RFC 3339 time stamp such as 2026-11-01T10:00:00Z")]
    Format,
    #[error("the time stamp is outside the years 1970 to 2999")]
    OutOfRange,
}

impl Timestamp {
    /// The current time from the system clock.
    pub fn now() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(MAX_MILLIS))
            .unwrap_or(0);
        Self(millis.clamp(MIN_MILLIS, MAX_MILLIS))
    }

    /// A time stamp from milliseconds since the Unix epoch, clamped to the accepted range.
    pub fn from_millis(millis: i64) -> Self {
        Self(millis.clamp(MIN_MILLIS, MAX_MILLIS))
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 time stamp with any offset and converts it to UTC.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        if text.len() > 64 {
            return Err(TimestampError::Format);
        }
        let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| TimestampError::Format)?;
        let millis = parsed.unix_timestamp_nanos() / 1_000_000;
        let millis = i64::try_from(millis).map_err(|_| TimestampError::OutOfRange)?;
        if !(MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            return Err(TimestampError::OutOfRange);
        }
        Ok(Self(millis))
    }

    fn to_datetime(self) -> OffsetDateTime {
        // The range check in every constructor keeps the value inside what `time` can hold.
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(UtcOffset::UTC)
    }

    /// RFC 3339 in UTC, with milliseconds only when they are not zero.
    pub fn to_rfc3339(self) -> String {
        let dt = self.to_datetime();
        let base = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        match self.0.rem_euclid(1000) {
            0 => format!("{base}Z"),
            ms => format!("{base}.{ms:03}Z"),
        }
    }

    /// The calendar date in UTC, as `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let dt = self.to_datetime();
        format!("{:04}-{:02}-{:02}", dt.year(), u8::from(dt.month()), dt.day())
    }

    /// Whole minutes since the epoch, for compact storage in the index.
    pub fn minutes(self) -> u32 {
        u32::try_from(self.0 / 60_000).unwrap_or(u32::MAX)
    }

    /// The time stamp at the start of the given minute since the epoch.
    pub fn from_minutes(minutes: u32) -> Self {
        Self(i64::from(minutes) * 60_000)
    }

    /// This time plus a number of milliseconds (negative to go back), clamped to the range.
    pub fn plus_millis(self, delta: i64) -> Self {
        Self::from_millis(self.0.saturating_add(delta))
    }

    /// Days (fractional) from `earlier` to `self`; negative when `earlier` is later.
    pub fn days_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / 86_400_000.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// One day in milliseconds.
pub const DAY_MILLIS: i64 = 86_400_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_into_utc() {
        let t = Timestamp::parse_rfc3339("2026-11-01T12:00:00+02:00").expect("valid");
        assert_eq!(t.to_rfc3339(), "2026-11-01T10:00:00Z");
        let t = Timestamp::parse_rfc3339("2026-11-01T10:00:00.250Z").expect("valid");
        assert_eq!(t.to_rfc3339(), "2026-11-01T10:00:00.250Z");
        assert_eq!(t.date_string(), "2026-11-01");
    }

    #[test]
    fn rejects_garbage_and_out_of_range() {
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), Err(TimestampError::Format));
        assert_eq!(Timestamp::parse_rfc3339("2026-13-01T00:00:00Z"), Err(TimestampError::Format));
        assert_eq!(Timestamp::parse_rfc3339("1969-12-31T00:00:00Z"), Err(TimestampError::OutOfRange));
    }

    #[test]
    fn minutes_round_trip() {
        let t = Timestamp::parse_rfc3339("2026-11-01T10:07:00Z").expect("valid");
        assert_eq!(Timestamp::from_minutes(t.minutes()), t);
    }
}
