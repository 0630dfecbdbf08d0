//! `enforce_requirements`: after one of a customer's subscriptions ends, cancels the ones that
//! needed it (`crate::billing::enforce_requirements`).

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::billing::{BillingError, enforce_requirements};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnforceRequirements {
    /// The Stripe customer.
    pub customer: String,
}

impl Job for EnforceRequirements {
    const NAME: &'static str = "enforce_requirements";
    const QUEUES: &'static [&'static str] = &["billing.requirements"];
    const MAX_ATTEMPTS: usize = 12;
    type Error = BillingError;

    async fn run(&self, ctx: &JobContext) -> Result<(), BillingError> {
        let Some(stripe) = &ctx.services.stripe else {
            tracing::warn!(customer = %self.customer, "no Stripe client: add-ons of an ended plan are left running");
            return Ok(());
        };
        let cancelled = enforce_requirements(stripe, &ctx.services.catalogue, &self.customer).await?;
        tracing::debug!(customer = %self.customer, ?cancelled, "requirements enforced");
        Ok(())
    }
}

impl JobError for BillingError {
    /// Stripe's or the database's trouble passes; anything else will fail the same way again.
    fn is_permanent(&self) -> bool {
        !matches!(self, Self::Database(_)) && !matches!(self, Self::Stripe(e) if e.is_transient())
    }
}
