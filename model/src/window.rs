//! The spans the operators' charts cover.

use serde::{Deserialize, Serialize};

/// A chart's span, cut into equal buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartWindow {
    #[default]
    Hour,
    Day,
    Week,
}

impl ChartWindow {
    pub const ALL: [Self; 3] = [Self::Hour, Self::Day, Self::Week];

    /// The query-string value (`?window=day`); anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    /// "the last hour", ...
    pub fn label(self) -> &'static str {
        match self {
            Self::Hour => "last hour",
            Self::Day => "last 24 hours",
            Self::Week => "last 7 days",
        }
    }

    /// One bucket, in milliseconds: 5 minutes, an hour, 6 hours.
    pub fn bucket_ms(self) -> i64 {
        const MINUTE: i64 = 60_000;
        match self {
            Self::Hour => 5 * MINUTE,
            Self::Day => 60 * MINUTE,
            Self::Week => 6 * 60 * MINUTE,
        }
    }

    /// How many buckets the span holds: 12, 24, 28.
    pub fn buckets(self) -> usize {
        match self {
            Self::Hour => 12,
            Self::Day => 24,
            Self::Week => 28,
        }
    }

    /// The whole span, in milliseconds.
    pub fn span_ms(self) -> i64 {
        self.bucket_ms() * i64::try_from(self.buckets()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::ChartWindow;

    #[test]
    fn windows_read_back_and_cover_their_span() {
        for window in ChartWindow::ALL {
            assert_eq!(ChartWindow::parse(window.as_str()), Some(window));
        }
        assert_eq!(ChartWindow::parse("month"), None);
        assert_eq!(ChartWindow::Hour.span_ms(), 3_600_000);
        assert_eq!(ChartWindow::Day.span_ms(), 86_400_000);
        assert_eq!(ChartWindow::Week.span_ms(), 7 * 86_400_000);
    }
}
