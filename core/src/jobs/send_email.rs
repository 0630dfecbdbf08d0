//! `send_email`: sends (or keeps in the outbox) one templated message, once (`crate::email`).

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::email::{EmailError, Template};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    /// Unique per message; the idempotency key and the `Message-ID`.
    pub id: String,
    pub to: String,
    pub template: Template,
}

impl SendEmail {
    pub fn new(to: &str, template: Template) -> Self {
        Self { id: uuid::Uuid::new_v4().to_string(), to: to.to_owned(), template }
    }
}

impl Job for SendEmail {
    const NAME: &'static str = "send_email";
    const QUEUES: &'static [&'static str] = &["email"];
    const MAX_ATTEMPTS: usize = 10;
    type Error = EmailError;

    async fn run(&self, ctx: &JobContext) -> Result<(), EmailError> {
        let outcome = ctx.services.mailer.deliver(&ctx.db, self).await?;
        tracing::debug!(id = %self.id, template = self.template.name(), ?outcome, "e-mail handled");
        Ok(())
    }
}

impl JobError for EmailError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::Invalid(_))
    }
}
