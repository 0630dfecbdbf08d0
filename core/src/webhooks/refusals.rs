//! A bounded, in-memory log of refused deliveries for operators: bad signatures are never
//! written to the database (a flood of forged requests must not become a flood of writes).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at_ms: i64,
    pub reason: &'static str,
    pub source: String,
    pub size: usize,
}

/// The newest `capacity` refusals of this process, oldest dropped first.
#[derive(Debug, Clone)]
pub struct RefusalLog {
    inner: Arc<Mutex<VecDeque<Refusal>>>,
    capacity: usize,
}

impl RefusalLog {
    pub fn new(capacity: usize) -> Self {
        Self { inner: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(1024)))), capacity: capacity.max(1) }
    }

    pub fn push(&self, refusal: Refusal) {
        let mut log = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if log.len() == self.capacity {
            log.pop_front();
        }
        log.push_back(refusal);
    }

    /// Newest first.
    pub fn recent(&self) -> Vec<Refusal> {
        let log = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        log.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_only_the_newest_entries() {
        let log = RefusalLog::new(2);
        for i in 0..3 {
            log.push(Refusal { at_ms: i, reason: "signature_mismatch", source: "127.0.0.1".into(), size: 10 });
        }
        let recent = log.recent();
        assert_eq!(recent.iter().map(|r| r.at_ms).collect::<Vec<_>>(), vec![2, 1]);
    }
}
