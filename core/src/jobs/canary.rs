//! `canary`: holds for a while, then leaves one effect (`crate::canary`): proves the queues work
//! end to end (`billhook canary`), and is what the crash tests and benchmarks send.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError, node_name};
use crate::{canary::CanaryError, clock};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    pub id: String,
    /// Work time, in milliseconds.
    pub hold_ms: u64,
    pub enqueued_at_ms: i64,
}

impl Canary {
    pub fn new(hold: Duration) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            hold_ms: u64::try_from(hold.as_millis()).unwrap_or(u64::MAX),
            enqueued_at_ms: clock::now_ms(),
        }
    }
}

impl Job for Canary {
    const NAME: &'static str = "canary";
    const QUEUES: &'static [&'static str] = &["system.canary"];
    const MAX_ATTEMPTS: usize = 5;
    type Error = CanaryError;

    async fn run(&self, ctx: &JobContext) -> Result<(), CanaryError> {
        crate::canary::run(&ctx.db, self, &node_name(), ctx.attempt).await
    }
}

/// Only database errors: worth another attempt.
impl JobError for CanaryError {
    fn is_permanent(&self) -> bool {
        false
    }
}
