//! What the billing overview shows of each subscription, and the changes a customer makes to one
//! (cancel at period end, resume), always on the signed-in account's own subscriptions.

use billhook_model::{Catalogue, SubscriptionStatus, format_amount};
use stripe_billing::{
    invoice::CreatePreviewInvoice,
    subscription::{UpdateSubscription, UpdateSubscriptionProrationBehavior},
};
use stripe_shared::{RecurringInterval, Subscription};

use super::{BillingError, customer_of, own_subscription, status_of, subscriptions_at_stripe, type_of};
use crate::{
    db::Db,
    stripe_api::{StripeApi, StripeApiError},
};

/// One subscription on the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSummary {
    pub id: String,
    /// The type's name (`Basic`), or the product's id for a type no longer in the catalogue.
    pub plan: String,
    pub status: SubscriptionStatus,
    /// `5.00 EUR monthly`.
    pub price: String,
    /// Unix seconds.
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    /// The next invoice's amount (`5.00 EUR`) and date (unix seconds), for one that renews.
    pub next_invoice: Option<(String, i64)>,
    /// The type's other prices it can move to: lookup key and `50.00 EUR yearly`.
    pub other_prices: Vec<(String, String)>,
}

/// Every subscription of account `user_id` that is not a forgotten attempt (`incomplete_expired`),
/// newest first, as Stripe holds it now, with its next invoice from Stripe's preview.
pub async fn overview(
    db: &Db,
    stripe: &StripeApi,
    catalogue: &Catalogue,
    user_id: i64,
) -> Result<Vec<SubscriptionSummary>, BillingError> {
    let Some(customer) = customer_of(db, user_id).await? else { return Ok(Vec::new()) };
    let mut summaries = Vec::new();
    for subscription in subscriptions_at_stripe(stripe, &customer).await? {
        let status = status_of(&subscription);
        if status == SubscriptionStatus::IncompleteExpired {
            continue;
        }
        let next_invoice = if status.grants_access() && !subscription.cancel_at_period_end {
            next_invoice(stripe, &customer, &subscription).await?
        } else {
            None
        };
        let kind = type_of(catalogue, &subscription);
        let current = subscription.items.data.first().and_then(|i| i.price.lookup_key.as_deref());
        let other_prices = kind
            .filter(|_| status.grants_access())
            .map(|kind| {
                kind.prices
                    .iter()
                    .filter(|p| Some(p.lookup_key.as_str()) != current)
                    .map(|p| {
                        (
                            p.lookup_key.clone(),
                            format!("{} {}", format_amount(p.amount, &p.currency), p.interval.adverb()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        summaries.push(SubscriptionSummary {
            id: subscription.id.as_str().to_owned(),
            plan: kind.map_or_else(|| product_of(&subscription), |t| t.name.clone()),
            status,
            price: price_label(&subscription),
            current_period_end: period_end(&subscription),
            cancel_at_period_end: subscription.cancel_at_period_end,
            next_invoice,
            other_prices,
        });
    }
    Ok(summaries)
}

fn product_of(subscription: &Subscription) -> String {
    subscription.items.data.first().map(|i| i.price.product.id().as_str().to_owned()).unwrap_or_default()
}

/// Since API 2025-03-31 the period lives on the items.
fn period_end(subscription: &Subscription) -> Option<i64> {
    subscription.items.data.iter().map(|i| i.current_period_end).max()
}

fn price_label(subscription: &Subscription) -> String {
    subscription
        .items
        .data
        .iter()
        .map(|item| {
            let amount =
                item.price.unit_amount.unwrap_or_default() * i64::try_from(item.quantity.unwrap_or(1)).unwrap_or(1);
            let every = item.price.recurring.as_ref().map_or("", |r| match r.interval {
                RecurringInterval::Year => " yearly",
                RecurringInterval::Month => " monthly",
                RecurringInterval::Week => " weekly",
                _ => " daily",
            });
            format!("{}{every}", format_amount(amount, &item.price.currency.to_string()))
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The invoice Stripe would raise next for `subscription` (its preview): amount and date.
async fn next_invoice(
    stripe: &StripeApi,
    customer: &str,
    subscription: &Subscription,
) -> Result<Option<(String, i64)>, BillingError> {
    let preview = CreatePreviewInvoice::new()
        .customer(customer)
        .subscription(subscription.id.as_str())
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    let at = period_end(subscription).unwrap_or(preview.period_end);
    Ok(Some((format_amount(preview.amount_due, &preview.currency.to_string()), at)))
}

/// Sets whether the account's subscription `id` ends at the end of its period.
pub async fn set_cancel_at_period_end(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    id: &str,
    cancel: bool,
) -> Result<(), BillingError> {
    let subscription = own_subscription(db, stripe, user_id, id).await?;
    if !status_of(&subscription).grants_access() {
        return Err(BillingError::NotFound);
    }
    let request = UpdateSubscription::new(id)
        .cancel_at_period_end(cancel)
        .proration_behavior(UpdateSubscriptionProrationBehavior::None);
    let key = format!("billhook-cancel-{id}-{cancel}-{}", crate::clock::now_ms() / 60_000);
    stripe.send_once(&request, &key).await?;
    crate::events::refresh(db, Some(stripe), crate::events::MirroredKind::Subscription, id)
        .await
        .map_err(|e| BillingError::Unexpected(format!("storing what Stripe said: {e}")))?;
    Ok(())
}
