//! The card a customer pays with: shown from Stripe, replaced with a SetupIntent confirmed in the
//! browser. Once Stripe says the SetupIntent succeeded, its card becomes the default for the
//! customer and for every subscription that still renews.

use stripe_billing::subscription::{ListSubscription, ListSubscriptionStatus, UpdateSubscription};
use stripe_core::{
    customer::{RetrieveCustomer, RetrieveCustomerReturned, UpdateCustomer, UpdateCustomerInvoiceSettings},
    setup_intent::{CreateSetupIntent, CreateSetupIntentUsage, RetrieveSetupIntent},
};
use stripe_shared::{PaymentMethod, SetupIntentStatus};
use stripe_types::Expandable;

use super::{BillingError, customer_of, ensure_customer, status_of, subscriptions_at_stripe};
use crate::{
    db::Db,
    stripe_api::{StripeApi, StripeApiError},
};

/// A saved card as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCard {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// The account's default card at Stripe, if it has one.
pub async fn default_card(db: &Db, stripe: &StripeApi, user_id: i64) -> Result<Option<SavedCard>, BillingError> {
    let Some(customer) = customer_of(db, user_id).await? else { return Ok(None) };
    let found = RetrieveCustomer::new(customer.as_str())
        .expand(vec!["invoice_settings.default_payment_method".to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    let RetrieveCustomerReturned::Customer(found) = found else { return Ok(None) };
    if let Some(Expandable::Object(method)) = found.invoice_settings.and_then(|s| s.default_payment_method) {
        return Ok(card_of(&method));
    }
    // A card saved by paying a subscription (`save_default_payment_method=on_subscription`) is
    // that subscription's default, not the customer's.
    let subscriptions = ListSubscription::new()
        .customer(customer.as_str())
        .status(ListSubscriptionStatus::All)
        .expand(vec!["data.default_payment_method".to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    Ok(subscriptions.data.iter().filter(|s| status_of(s).grants_access()).find_map(|s| {
        match &s.default_payment_method {
            Some(Expandable::Object(method)) => card_of(method),
            _ => None,
        }
    }))
}

fn card_of(method: &PaymentMethod) -> Option<SavedCard> {
    method.card.as_ref().map(|card| SavedCard {
        brand: card.brand.clone(),
        last4: card.last4.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
    })
}

/// A SetupIntent for the account's next card; returns its client secret.
pub async fn start_card_replacement(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    email: &str,
) -> Result<String, BillingError> {
    let customer = ensure_customer(db, stripe, user_id, email).await?;
    let request = CreateSetupIntent::new().customer(customer.as_str()).usage(CreateSetupIntentUsage::OffSession);
    // One key per replacement started: retries of this request reuse it, a second replacement
    // (even within the same minute, once the first succeeded) gets an intent of its own.
    let key = format!("billhook-new-card-{customer}-{}", uuid::Uuid::new_v4());
    let intent = stripe.send_once(&request, &key).await?;
    intent
        .client_secret
        .ok_or_else(|| BillingError::Unexpected(format!("setup intent {} has no client secret", intent.id)))
}

/// After the browser confirmed SetupIntent `id`: when Stripe says it succeeded for this account,
/// its card becomes the default of the customer and of every subscription that renews. Returns
/// the new card, or None while the SetupIntent has not succeeded. Running it again is harmless.
pub async fn finish_card_replacement(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    id: &str,
) -> Result<Option<SavedCard>, BillingError> {
    let customer = customer_of(db, user_id).await?.ok_or(BillingError::NotFound)?;
    if !id.starts_with("seti_") {
        return Err(BillingError::NotFound);
    }
    let intent = match RetrieveSetupIntent::new(id)
        .expand(vec!["payment_method".to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)
    {
        Err(StripeApiError::Api { status: 404, .. }) => return Err(BillingError::NotFound),
        other => other?,
    };
    if intent.customer.as_ref().map(|c| c.id().as_str()) != Some(customer.as_str()) {
        return Err(BillingError::NotFound);
    }
    let Some(Expandable::Object(method)) =
        intent.payment_method.filter(|_| intent.status == SetupIntentStatus::Succeeded)
    else {
        return Ok(None);
    };
    let method_id = method.id.as_str().to_owned();
    let mut settings = UpdateCustomerInvoiceSettings::new();
    settings.default_payment_method = Some(method_id.clone());
    let update = UpdateCustomer::new(customer.as_str()).invoice_settings(settings);
    stripe.send_once(&update, &format!("billhook-default-card-{customer}-{method_id}")).await?;
    for subscription in subscriptions_at_stripe(stripe, &customer).await? {
        let renews = status_of(&subscription).grants_access();
        let current = subscription.default_payment_method.as_ref().map(|m| m.id().as_str().to_owned());
        if renews && current.as_deref() != Some(method_id.as_str()) {
            let update = UpdateSubscription::new(subscription.id.as_str()).default_payment_method(method_id.as_str());
            stripe.send_once(&update, &format!("billhook-default-card-{}-{method_id}", subscription.id)).await?;
        }
    }
    Ok(card_of(&method))
}
