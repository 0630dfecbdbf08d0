//! `adopt_card`: when Stripe says a SetupIntent succeeded, its card becomes the default of the
//! customer and of their renewing subscriptions - whether or not the browser came back to say so
//! (`crate::billing::finish_card_replacement`, which the return page also runs; twice is harmless).

use serde::{Deserialize, Serialize};

use super::{Job, JobContext};
use crate::billing::{BillingError, finish_card_replacement};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptCard {
    /// The account whose customer confirmed it.
    pub user_id: i64,
    pub setup_intent: String,
}

impl Job for AdoptCard {
    const NAME: &'static str = "adopt_card";
    const QUEUES: &'static [&'static str] = &["billing.cards"];
    const MAX_ATTEMPTS: usize = 12;
    type Error = BillingError;

    async fn run(&self, ctx: &JobContext) -> Result<(), BillingError> {
        let Some(stripe) = &ctx.services.stripe else { return Ok(()) };
        let card = finish_card_replacement(&ctx.db, stripe, self.user_id, &self.setup_intent).await?;
        tracing::debug!(setup_intent = %self.setup_intent, adopted = card.is_some(), "card adopted");
        Ok(())
    }
}
