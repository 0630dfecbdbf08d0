//! `process_event`: runs the handler of one stored Stripe event (`crate::events`), on the queue
//! of the event's kind, so a flood of one kind does not hold up another.

use serde::{Deserialize, Serialize};

use super::{Cause, Job, JobContext, JobError};
use crate::events::{self, ProcessError};

/// Customer events.
pub const CUSTOMERS_QUEUE: &str = "stripe.customers";
/// Subscription events.
pub const SUBSCRIPTIONS_QUEUE: &str = "stripe.subscriptions";
/// Invoice events.
pub const INVOICES_QUEUE: &str = "stripe.invoices";
/// Payment method, payment intent and setup intent events.
pub const PAYMENTS_QUEUE: &str = "stripe.payments";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEvent {
    pub event_id: String,
    /// Routes the job to its queue (jobs queued before this field existed lack it; they are
    /// past routing).
    #[serde(default)]
    pub event_type: String,
}

impl ProcessEvent {
    /// The job for a stored event, or None: its type has no handler (it is stored and marked
    /// `ignored`).
    pub fn for_event(event_id: &str, event_type: &str) -> Option<Self> {
        events::queue_for(event_type).map(|_| Self { event_id: event_id.to_owned(), event_type: event_type.to_owned() })
    }
}

impl Job for ProcessEvent {
    const NAME: &'static str = "process_event";
    const QUEUES: &'static [&'static str] = &[CUSTOMERS_QUEUE, SUBSCRIPTIONS_QUEUE, INVOICES_QUEUE, PAYMENTS_QUEUE];
    const MAX_ATTEMPTS: usize = 12;
    type Error = ProcessError;

    fn queue(&self) -> &'static str {
        events::queue_for(&self.event_type).unwrap_or(Self::QUEUES[0])
    }

    fn cause(&self) -> Option<Cause<'_>> {
        Some(Cause::Event(&self.event_id))
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), ProcessError> {
        let outcome = events::process_event(&ctx.db, &self.event_id).await?;
        tracing::debug!(event = %self.event_id, ?outcome, "event processed");
        Ok(())
    }
}

impl JobError for ProcessError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::NotFound(_) | Self::BadPayload(_))
    }
}
