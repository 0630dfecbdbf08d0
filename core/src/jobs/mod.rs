//! Background jobs on apalis, on the same database as everything else (SQLite or PostgreSQL).
//!
//! What Billhook adds around apalis (its engine):
//! - queue names pinned here, not derived from Rust type names;
//! - jobs enqueued inside the caller's transaction (`enqueue_in_tx`), so "stored" and "queued"
//!   commit together;
//! - retries whose next run time is written to the job row (exponential backoff with jitter), so a
//!   crash or another node never retries early - apalis' own retry layer only sleeps in memory
//!   and its storages re-fetch failed jobs at once;
//! - every attempt and its error kept in `job_attempts` (apalis keeps only the last result);
//! - worker names unique per process, heartbeat and orphan threshold from the configuration.

pub mod backoff;
pub mod canary;
pub mod housekeeping;
pub mod queues;
pub mod scheduler;
mod schema;
mod workers;

use serde::{Deserialize, Serialize};

pub use schema::{enqueue_in_tx, setup};
pub use workers::{JobServices, WorkerOptions, node_name, run_workers};

/// Process one stored Stripe event (see `crate::events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEvent {
    pub event_id: String,
}

/// A job to enqueue: its queue, JSON arguments and attempt budget.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub queue: &'static str,
    pub args: Vec<u8>,
    pub max_attempts: usize,
}

impl NewJob {
    pub fn process_event(queue: &'static str, event_id: &str) -> Self {
        let args = serde_json::to_vec(&ProcessEvent { event_id: event_id.to_owned() }).expect("serialisable");
        Self { queue, args, max_attempts: queues::EVENT_MAX_ATTEMPTS }
    }
}
