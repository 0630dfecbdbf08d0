//! Refused deliveries: every delivery answered with a 4xx (no or bad signature, stale, too large,
//! unusable), in a bounded in-memory log for operators. Refusals are never written to the database:
//! a flood of forged requests must not become a flood of writes. (The signed-but-unusable ones are
//! also *kept*, see `webhooks::keep_unusable`.)

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedDelivery {
    pub at_ms: i64,
    pub reason: &'static str,
    pub source: String,
    pub size: usize,
}

/// The newest `capacity` refused deliveries of this process, oldest dropped first.
#[derive(Debug, Clone)]
pub struct RefusedDeliveries {
    inner: Arc<Mutex<VecDeque<RefusedDelivery>>>,
    capacity: usize,
}

impl RefusedDeliveries {
    pub fn new(capacity: usize) -> Self {
        Self { inner: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(1024)))), capacity: capacity.max(1) }
    }

    pub fn push(&self, refusal: RefusedDelivery) {
        let mut log = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if log.len() == self.capacity {
            log.pop_front();
        }
        log.push_back(refusal);
    }

    /// Newest first.
    pub fn recent(&self) -> Vec<RefusedDelivery> {
        let log = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        log.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_only_the_newest_entries() {
        let log = RefusedDeliveries::new(2);
        for i in 0..3 {
            log.push(RefusedDelivery { at_ms: i, reason: "signature_mismatch", source: "127.0.0.1".into(), size: 10 });
        }
        let recent = log.recent();
        assert_eq!(recent.iter().map(|r| r.at_ms).collect::<Vec<_>>(), vec![2, 1]);
    }
}
