//! `refresh_object`: reads one mirrored object from Stripe when two of its events tie
//! (`crate::events::refresh`). A queue of its own: a queue carries one kind of job.

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::events::{MirroredKind, RefreshError, refresh};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshObject {
    pub kind: MirroredKind,
    pub id: String,
}

impl Job for RefreshObject {
    const NAME: &'static str = "refresh_object";
    const QUEUES: &'static [&'static str] = &["stripe.reads"];
    const MAX_ATTEMPTS: usize = 12;
    type Error = RefreshError;

    async fn run(&self, ctx: &JobContext) -> Result<(), RefreshError> {
        let outcome = refresh(&ctx.db, ctx.services.stripe.as_ref(), self.kind, &self.id).await?;
        tracing::debug!(kind = ?self.kind, id = %self.id, ?outcome, "mirrored object read from Stripe");
        Ok(())
    }
}

impl JobError for RefreshError {
    fn is_permanent(&self) -> bool {
        RefreshError::is_permanent(self)
    }
}
