use std::time::Duration;

/// How many failed log-ins are tolerated within `window`, per account and per source address,
/// before further attempts are refused (even with the right password) until the window passes.
/// Failures are kept in the database, so the limits hold across a cluster of web nodes.
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: u32,
    pub max_failures_per_ip: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { window: Duration::from_secs(15 * 60), max_failures_per_account: 5, max_failures_per_ip: 50 }
    }
}

impl ThrottlePolicy {
    pub(crate) fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }
}
