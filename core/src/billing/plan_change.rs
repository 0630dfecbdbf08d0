//! Changing a subscription to another price of its type (Basic monthly to yearly): a preview of
//! the invoice it brings (`create_preview`, with the prorations), then the change itself at the
//! same proration date, so the customer is charged what they read. A new billing interval
//! restarts the cycle, and Stripe invoices it at once; a charge that needs the customer leaves
//! the invoice open for the "complete your payment" page.

use billhook_model::{Catalogue, format_amount};
use stripe_billing::{
    invoice::{
        CreatePreviewInvoice, CreatePreviewInvoiceSubscriptionDetails, CreatePreviewInvoiceSubscriptionDetailsItems,
    },
    subscription::{UpdateSubscription, UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior},
};
use stripe_shared::Subscription;

use super::{BillingError, own_subscription, status_of, subscriptions::price_id, type_of};
use crate::{
    db::Db,
    stripe_api::{StripeApi, StripeApiError},
};

/// What a plan change will cost, before it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanChangePreview {
    pub subscription_id: String,
    pub lookup_key: String,
    /// The invoice's lines: what each is for, and its amount (`-2.50 EUR` for a credit).
    pub lines: Vec<(String, String)>,
    /// The invoice's total (`47.50 EUR`).
    pub total: String,
    /// True: invoiced and charged at once; false: added to the next renewal's invoice.
    pub charged_now: bool,
    /// The moment the prorations are computed for (Unix seconds); the change uses the same.
    pub proration_date: i64,
}

/// The new price must be another price of the subscription's own type.
fn checked_change<'c>(
    catalogue: &'c Catalogue,
    subscription: &Subscription,
    lookup_key: &str,
) -> Result<&'c str, BillingError> {
    if !status_of(subscription).grants_access() {
        return Err(BillingError::NotFound);
    }
    let kind = type_of(catalogue, subscription).ok_or_else(|| BillingError::UnknownPrice(lookup_key.to_owned()))?;
    let current = subscription.items.data.first().and_then(|i| i.price.lookup_key.as_deref());
    if current == Some(lookup_key) {
        return Err(BillingError::AlreadyHeld(kind.name.clone()));
    }
    let price = kind.prices.iter().find(|p| p.lookup_key == lookup_key);
    price.map(|p| p.lookup_key.as_str()).ok_or_else(|| BillingError::UnknownPrice(lookup_key.to_owned()))
}

/// The subscription's present (Unix seconds): its test clock's time for one on a test clock
/// (the offline sandbox), else now.
async fn now_for(stripe: &StripeApi, subscription: &Subscription) -> Result<i64, BillingError> {
    let Some(clock) = &subscription.test_clock else { return Ok(crate::clock::now_ms().div_euclid(1000)) };
    let clock = stripe.retrieve("test_helpers/test_clocks", clock.id().as_str()).await?;
    clock["frozen_time"].as_i64().ok_or_else(|| BillingError::Unexpected("a test clock without its time".into()))
}

fn item_id(subscription: &Subscription) -> Result<String, BillingError> {
    subscription
        .items
        .data
        .first()
        .map(|i| i.id.as_str().to_owned())
        .ok_or_else(|| BillingError::Unexpected(format!("subscription {} has no items", subscription.id)))
}

/// The invoice that moving account `user_id`'s subscription `id` to price `lookup_key` would
/// bring, computed by Stripe now.
pub async fn preview_plan_change(
    db: &Db,
    stripe: &StripeApi,
    catalogue: &Catalogue,
    user_id: i64,
    id: &str,
    lookup_key: &str,
) -> Result<PlanChangePreview, BillingError> {
    let subscription = own_subscription(db, stripe, user_id, id).await?;
    let lookup_key = checked_change(catalogue, &subscription, lookup_key)?;
    let price = price_id(stripe, lookup_key).await?;
    let proration_date = now_for(stripe, &subscription).await?;
    let mut item = CreatePreviewInvoiceSubscriptionDetailsItems::new();
    item.id = Some(item_id(&subscription)?);
    item.price = Some(price);
    let mut details = CreatePreviewInvoiceSubscriptionDetails::new();
    details.items = Some(vec![item]);
    details.proration_date = Some(proration_date);
    let preview = CreatePreviewInvoice::new()
        .customer(subscription.customer.id().as_str())
        .subscription(id)
        .subscription_details(details)
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    let currency = preview.currency.to_string();
    Ok(PlanChangePreview {
        subscription_id: id.to_owned(),
        lookup_key: lookup_key.to_owned(),
        lines: preview
            .lines
            .data
            .iter()
            .map(|line| (line.description.clone().unwrap_or_default(), format_amount(line.amount, &currency)))
            .collect(),
        total: format_amount(preview.total, &currency),
        charged_now: preview.billing_reason.is_some_and(|r| r.as_str() == "subscription_update"),
        proration_date,
    })
}

/// Moves account `user_id`'s subscription `id` to price `lookup_key`, prorated as of
/// `proration_date` (the preview's, within the last hour). Asking twice changes it once.
pub async fn change_plan(
    db: &Db,
    stripe: &StripeApi,
    catalogue: &Catalogue,
    user_id: i64,
    id: &str,
    lookup_key: &str,
    proration_date: i64,
) -> Result<(), BillingError> {
    let subscription = own_subscription(db, stripe, user_id, id).await?;
    let lookup_key = checked_change(catalogue, &subscription, lookup_key)?;
    let now = now_for(stripe, &subscription).await?;
    if !(now - 3600..=now).contains(&proration_date) {
        return Err(BillingError::StalePreview);
    }
    let price = price_id(stripe, lookup_key).await?;
    let mut item = UpdateSubscriptionItems::new();
    item.id = Some(item_id(&subscription)?);
    item.price = Some(price);
    let request = UpdateSubscription::new(id)
        .items(vec![item])
        .proration_behavior(UpdateSubscriptionProrationBehavior::CreateProrations)
        .proration_date(proration_date);
    stripe.send_once(&request, &format!("billhook-plan-{id}-{lookup_key}-{proration_date}")).await?;
    crate::events::refresh(db, Some(stripe), crate::events::MirroredKind::Subscription, id)
        .await
        .map_err(|e| BillingError::Unexpected(format!("storing what Stripe said: {e}")))?;
    Ok(())
}
