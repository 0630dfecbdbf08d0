//! Time as Billhook stores it: unix milliseconds in a BIGINT column on both databases, so that
//! comparisons and ordering behave the same on SQLite (no native timestamp type) and PostgreSQL.

use time::OffsetDateTime;

/// The current time in unix milliseconds.
pub fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

/// A moment as unix milliseconds.
pub fn to_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Unix milliseconds back to a moment (clamped to the representable range).
pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(from_ms(to_ms(at)), at);
        assert_eq!(to_ms(at), 1_700_000_000_000);
    }
}
