//! When a failed job runs again: exponential backoff with jitter, written to the job row.

use std::time::Duration;

/// `base * 2^(attempt-1)`, capped, then +-25 % jitter so that failures that happened together do
/// not all retry together. Attempt 1 (the first run) failing gives about `base`.
pub fn delay(attempt: usize, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1)).unwrap_or(u32::MAX).min(30);
    let raw = base.saturating_mul(1u32 << exponent).min(cap);
    let factor = 1.0 + (jitter.clamp(0.0, 1.0) * 2.0 - 1.0) * 0.25;
    raw.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(2);
    const CAP: Duration = Duration::from_secs(3600);

    #[test]
    fn the_delay_doubles_per_attempt_up_to_the_cap() {
        assert_eq!(delay(1, BASE, CAP, 0.5), Duration::from_secs(2));
        assert_eq!(delay(2, BASE, CAP, 0.5), Duration::from_secs(4));
        assert_eq!(delay(5, BASE, CAP, 0.5), Duration::from_secs(32));
        assert_eq!(delay(40, BASE, CAP, 0.5), CAP);
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        assert_eq!(delay(3, BASE, CAP, 0.0), Duration::from_secs(6));
        assert_eq!(delay(3, BASE, CAP, 1.0), Duration::from_secs(10));
    }
}
