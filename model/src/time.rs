//! The one time type on the wire and in the database: milliseconds since the Unix epoch, UTC.

use time::{OffsetDateTime, macros::format_description};

// No `now()` here: the server stamps times (`billhook_core::clock`); `time` cannot read the
// clock in the browser's WASM without extra features.

/// A moment, stored and sent as integer milliseconds since 1970-01-01 UTC (an INTEGER/BIGINT
/// column, a JSON number), and shown the same way on the server and in the browser, so that a
/// hydrated page reads exactly as the server rendered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).ok()
    }

    /// `YYYY-MM-DD HH:MM UTC`.
    pub fn format_minutes(self) -> String {
        self.format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
    }

    /// `YYYY-MM-DD`.
    pub fn format_date(self) -> String {
        self.format(format_description!("[year]-[month]-[day]"))
    }

    fn format(self, description: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
        self.to_datetime().and_then(|t| t.format(description).ok()).unwrap_or_else(|| format!("{} ms", self.0))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format_minutes())
    }
}

impl From<i64> for Timestamp {
    fn from(ms: i64) -> Self {
        Self(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01 00:00 UTC");
        // Both checked with Python's datetime.
        assert_eq!(Timestamp(1_795_716_257_914).to_string(), "2026-11-26 18:04 UTC");
        assert_eq!(Timestamp(951_782_400_000).format_date(), "2000-02-29");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn a_timestamp_is_a_plain_number_on_the_wire() {
        assert_eq!(serde_json::to_string(&Timestamp(1_700_000_000_123)).unwrap(), "1700000000123");
    }
}
