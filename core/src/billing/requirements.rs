//! A subscription type that needs another (the SSL add-on needs Basic) ends with it: when the
//! required subscription ends, every dependent one still running is cancelled at Stripe.

use billhook_model::Catalogue;
use stripe_billing::subscription::CancelSubscription;

use super::{BillingError, status_of, subscriptions_at_stripe, type_of};
use crate::stripe_api::StripeApi;

/// Cancels Stripe customer `customer`'s subscriptions whose type requires a type the customer no
/// longer holds active; returns their ids. Running it again finds nothing more to do.
pub async fn enforce_requirements(
    stripe: &StripeApi,
    catalogue: &Catalogue,
    customer: &str,
) -> Result<Vec<String>, BillingError> {
    let held = subscriptions_at_stripe(stripe, customer).await?;
    let active_type = |key: &str| {
        held.iter().any(|s| status_of(s).grants_access() && type_of(catalogue, s).is_some_and(|t| t.key == key))
    };
    let mut cancelled = Vec::new();
    for subscription in held.iter().filter(|s| status_of(s).grants_access()) {
        let Some(required) = type_of(catalogue, subscription).and_then(|t| t.requires.as_deref()) else { continue };
        if active_type(required) {
            continue;
        }
        let id = subscription.id.as_str();
        stripe.send_once(&CancelSubscription::new(id), &format!("billhook-requirement-ended-{id}")).await?;
        tracing::info!(subscription = id, customer, required, "cancelled: the subscription it needs has ended");
        cancelled.push(id.to_owned());
    }
    Ok(cancelled)
}
