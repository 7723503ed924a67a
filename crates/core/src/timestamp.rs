//! Points in time, in UTC, with millisecond precision.
//!
//! Stored and compared as milliseconds since the Unix epoch; written as RFC 3339 with a `Z`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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

    /// Year, month, day, hour, minute, second and millisecond in UTC.
    fn civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(DAY_MILLIS);
        let in_day = self.0.rem_euclid(DAY_MILLIS);
        // Days to a proleptic Gregorian date (H. Hinnant's `civil_from_days`).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let secs = in_day / 1000;
        (
            (year),
            month,
            day,
            (secs / 3600) as u32,
            (secs / 60 % 60) as u32,
            (secs % 60) as u32,
            (in_day % 1000) as u32,
        )
    }

    /// RFC 3339 in UTC, with milliseconds only when they are not zero.
    pub fn to_rfc3339(self) -> String {
        use std::fmt::Write;
        let (y, mo, d, h, mi, s, ms) = self.civil();
        let mut out = String::with_capacity(24);
        let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if ms != 0 {
            let _ = write!(out, ".{ms:03}");
        }
        out.push('Z');
        out
    }

    /// Year, month (1–12) and day of the month in UTC.
    pub fn ymd(self) -> (i64, u32, u32) {
        let (y, mo, d, ..) = self.civil();
        (y, mo, d)
    }

    /// The calendar date in UTC, as `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let (y, mo, d, ..) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}")
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
    fn formats_like_the_time_crate() {
        use time::format_description::well_known::Rfc3339;
        for millis in [
            0i64,
            951_782_400_000,
            1_700_000_000_123,
            4_102_444_799_999,
            32_503_679_999_000,
            1_582_934_400_000,
        ] {
            let ours = Timestamp::from_millis(millis).to_rfc3339();
            let theirs = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                .expect("in range")
                .format(&Rfc3339)
                .expect("formats");
            let theirs = theirs.replace(".000000000", "").replace("000000Z", "Z").replace("+00:00", "Z");
            assert_eq!(ours, theirs, "{millis}");
            assert_eq!(Timestamp::parse_rfc3339(&ours), Ok(Timestamp::from_millis(millis)));
        }
    }

    proptest::proptest! {
        #[test]
        fn rfc3339_round_trips(millis in 0i64..32_503_680_000_000) {
            let t = Timestamp::from_millis(millis);
            proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Ok(t));
            proptest::prop_assert_eq!(&t.to_rfc3339()[..10], t.date_string());
        }
    }

    #[test]
    fn minutes_round_trip() {
        let t = Timestamp::parse_rfc3339("2026-11-01T10:07:00Z").expect("valid");
        assert_eq!(Timestamp::from_minutes(t.minutes()), t);
    }
}
