//! `run_bulk`: runs a dashboard bulk operation (`crate::dashboard::bulk`) a chunk at a time. A
//! job, so that the node that dies mid-way is replaced by another that resumes it.

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::dashboard::DashboardError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunBulk {
    pub operation_id: String,
}

impl Job for RunBulk {
    const NAME: &'static str = "run_bulk";
    const QUEUES: &'static [&'static str] = &["system.dashboard"];
    const MAX_ATTEMPTS: usize = 10;
    type Error = DashboardError;

    async fn run(&self, ctx: &JobContext) -> Result<(), DashboardError> {
        crate::dashboard::bulk::run(&ctx.db, &self.operation_id).await
    }
}

/// The database and the queue may come back; an operation that is gone or unreadable will not.
impl JobError for DashboardError {
    fn is_permanent(&self) -> bool {
        !matches!(self, Self::Database(_) | Self::Enqueue(_))
    }
}
