//! Timestamps as the whole system sees them: UTC, millisecond precision.
//!
//! Millisecond precision lets a timestamp round-trip exactly through an
//! integer column, which the audit hash chain relies on (an event's hash
//! covers its RFC 3339 `at`).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Truncates to whole milliseconds in UTC.
pub fn to_millis_precision(t: OffsetDateTime) -> OffsetDateTime {
    from_unix_millis(unix_millis(t))
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The instant `ms` milliseconds after the Unix epoch, in UTC.
pub fn from_unix_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339, as the API writes times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_exactly() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_789).unwrap();
        let truncated = to_millis_precision(t);
        assert_eq!(unix_millis(truncated), 1_795_000_000_123);
        assert_eq!(from_unix_millis(unix_millis(truncated)), truncated);
    }
}
