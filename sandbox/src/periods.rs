//! Billing periods: a recurring price's interval (`day`, `week`, `month`, `year`, times
//! `interval_count`) added to a moment, on the calendar (a month after 31 January is the last day
//! of February), as Stripe bills.

use time::{Duration, Month, OffsetDateTime};

/// `start` (Unix seconds) advanced by `count` `interval`s.
pub fn advance(start: i64, interval: &str, count: i64) -> i64 {
    let Ok(at) = OffsetDateTime::from_unix_timestamp(start) else { return start };
    let advanced = match interval {
        "day" => at.checked_add(Duration::days(count)),
        "week" => at.checked_add(Duration::weeks(count)),
        "month" => add_months(at, count),
        "year" => add_months(at, count.saturating_mul(12)),
        _ => None,
    };
    advanced.map_or(start, OffsetDateTime::unix_timestamp)
}

fn add_months(at: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let index = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = at.day().min(time::util::days_in_month(month, year));
    at.replace_day(1).ok()?.replace_year(year).ok()?.replace_month(month).ok()?.replace_day(day).ok()
}

#[cfg(test)]
mod tests {
    use super::advance;

    const JAN_31_2026: i64 = 1_769_817_600; // 2026-01-31 00:00 UTC

    #[test]
    fn a_month_ends_on_the_calendar() {
        assert_eq!(advance(JAN_31_2026, "month", 1), 1_772_236_800, "2026-02-28");
        assert_eq!(advance(JAN_31_2026, "month", 2), 1_774_915_200, "2026-03-31");
        assert_eq!(advance(JAN_31_2026, "year", 1), 1_801_353_600, "2027-01-31");
        assert_eq!(advance(JAN_31_2026, "week", 1), JAN_31_2026 + 7 * 86_400);
        assert_eq!(advance(JAN_31_2026, "day", 3), JAN_31_2026 + 3 * 86_400);
    }
}
