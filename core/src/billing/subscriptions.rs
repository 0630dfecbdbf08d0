//! Subscribing under SCA: the subscription is created `default_incomplete`, its first invoice's
//! PaymentIntent is confirmed in the browser (3-D Secure when the bank asks), and the card is
//! kept for renewals (`save_default_payment_method=on_subscription`). What a customer holds is
//! always read from Stripe, never taken from the browser's word.

use billhook_model::{Catalogue, SubscriptionStatus, SubscriptionType};
use stripe_billing::subscription::{
    CreateSubscription, CreateSubscriptionItems, CreateSubscriptionPaymentBehavior, CreateSubscriptionPaymentSettings,
    CreateSubscriptionPaymentSettingsSaveDefaultPaymentMethod, ListSubscription, ListSubscriptionStatus,
    RetrieveSubscription,
};
use stripe_product::price::ListPrice;
use stripe_shared::Subscription;
use stripe_types::Expandable;

use super::{BillingError, customers::ensure_customer};
use crate::{
    db::Db,
    stripe_api::{StripeApi, StripeApiError},
};

/// What the browser needs to pay a new subscription's first invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstPayment {
    pub subscription_id: String,
    /// The invoice PaymentIntent's client secret (`latest_invoice.confirmation_secret`).
    pub client_secret: String,
}

/// The account asking, as billing needs it.
#[derive(Debug, Clone, Copy)]
pub struct Customer<'a> {
    pub user_id: i64,
    pub email: &'a str,
}

/// The catalogue type of a Stripe subscription: the type of its first item's price (by lookup
/// key), or None for one the catalogue does not know (sold before a change of configuration).
pub fn type_of<'c>(catalogue: &'c Catalogue, subscription: &Subscription) -> Option<&'c SubscriptionType> {
    subscription
        .items
        .data
        .iter()
        .find_map(|item| item.price.lookup_key.as_deref().and_then(|key| catalogue.price(key)))
        .map(|(kind, _)| kind)
}

/// The subscriptions in `held` of the catalogue type `key`.
fn of_type<'a>(
    catalogue: &'a Catalogue,
    held: &'a [Subscription],
    key: &'a str,
) -> impl Iterator<Item = &'a Subscription> {
    held.iter().filter(move |s| type_of(catalogue, s).is_some_and(|t| t.key == key))
}

/// The status as Billhook names it (an unknown new status of Stripe's reads as `incomplete`:
/// it grants nothing).
pub fn status_of(subscription: &Subscription) -> SubscriptionStatus {
    SubscriptionStatus::parse(subscription.status.as_str()).unwrap_or(SubscriptionStatus::Incomplete)
}

/// Every subscription of Stripe customer `customer`, whatever its status, read from Stripe now.
pub async fn subscriptions_at_stripe(stripe: &StripeApi, customer: &str) -> Result<Vec<Subscription>, BillingError> {
    let list = ListSubscription::new()
        .customer(customer)
        .status(ListSubscriptionStatus::All)
        .limit(100)
        .expand(vec!["data.latest_invoice".to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    Ok(list.data)
}

/// Starts a subscription to the price `lookup_key` for `who`: refused when its type needs another
/// the customer does not hold active, or is already held; an unpaid attempt at the same price
/// is offered again rather than doubled. Returns what the browser confirms.
pub async fn subscribe(
    db: &Db,
    stripe: &StripeApi,
    catalogue: &Catalogue,
    who: Customer<'_>,
    lookup_key: &str,
) -> Result<FirstPayment, BillingError> {
    let (kind, _) = catalogue.price(lookup_key).ok_or_else(|| BillingError::UnknownPrice(lookup_key.to_owned()))?;
    let customer = ensure_customer(db, stripe, who.user_id, who.email).await?;
    let held = subscriptions_at_stripe(stripe, &customer).await?;
    let of_type = |key| of_type(catalogue, &held, key);
    if let Some(required) = &kind.requires
        && !of_type(required.as_str()).any(|s| status_of(s).grants_access())
    {
        let required = catalogue.subscription_type(required).map_or(required.as_str(), |t| t.name.as_str());
        return Err(BillingError::Requires { wanted: kind.name.clone(), required: required.to_owned() });
    }
    if of_type(kind.key.as_str()).any(|s| status_of(s).grants_access()) {
        return Err(BillingError::AlreadyHeld(kind.name.clone()));
    }
    let waiting = of_type(kind.key.as_str()).find(|s| {
        status_of(s) == SubscriptionStatus::Incomplete
            && s.items.data.iter().any(|i| i.price.lookup_key.as_deref() == Some(lookup_key))
    });
    if let Some(waiting) = waiting {
        return first_payment_of(stripe, waiting.id.as_str()).await;
    }

    let mut item = CreateSubscriptionItems::new();
    item.price = Some(price_id(stripe, lookup_key).await?);
    let mut settings = CreateSubscriptionPaymentSettings::new();
    settings.save_default_payment_method =
        Some(CreateSubscriptionPaymentSettingsSaveDefaultPaymentMethod::OnSubscription);
    let request = CreateSubscription::new()
        .customer(customer.as_str())
        .items(vec![item])
        .payment_behavior(CreateSubscriptionPaymentBehavior::DefaultIncomplete)
        .payment_settings(settings)
        .metadata([
            ("billhook_user_id".to_owned(), who.user_id.to_string()),
            ("billhook_type".to_owned(), kind.key.clone()),
            // For the mails about it, which are written from its events.
            ("billhook_plan".to_owned(), kind.name.clone()),
        ])
        .expand(vec!["latest_invoice.confirmation_secret".to_owned()]);
    // Two clicks within a minute are one subscription.
    let minute = crate::clock::now_ms() / 60_000;
    let created = stripe.send_once(&request, &format!("billhook-subscribe-{customer}-{lookup_key}-{minute}")).await?;
    confirmation_of(&created)
}

/// The id at Stripe of the catalogue price `lookup_key`.
pub(super) async fn price_id(stripe: &StripeApi, lookup_key: &str) -> Result<String, BillingError> {
    let found = ListPrice::new()
        .lookup_keys(vec![lookup_key.to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?
        .data
        .into_iter()
        .next()
        .ok_or_else(|| BillingError::PriceNotSynced(lookup_key.to_owned()))?;
    Ok(found.id.as_str().to_owned())
}

/// The first-invoice secret of subscription `id` (read with its invoice's secret expanded).
async fn first_payment_of(stripe: &StripeApi, id: &str) -> Result<FirstPayment, BillingError> {
    let subscription = RetrieveSubscription::new(id)
        .expand(vec!["latest_invoice.confirmation_secret".to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    confirmation_of(&subscription)
}

fn confirmation_of(subscription: &Subscription) -> Result<FirstPayment, BillingError> {
    let secret = match &subscription.latest_invoice {
        Some(Expandable::Object(invoice)) => invoice.confirmation_secret.as_ref().map(|c| c.client_secret.clone()),
        _ => None,
    };
    let client_secret = secret.ok_or_else(|| {
        BillingError::Unexpected(format!("subscription {} came back without its invoice's secret", subscription.id))
    })?;
    Ok(FirstPayment { subscription_id: subscription.id.as_str().to_owned(), client_secret })
}

/// Subscription `id` as Stripe holds it now, if it belongs to account `user_id`; anything else
/// (another account's, none at all) is [`BillingError::NotFound`]. What Stripe says is stored in
/// the mirror as well, so the pages that read the mirror need not wait for the webhook.
pub async fn own_subscription(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    id: &str,
) -> Result<Subscription, BillingError> {
    let customer = super::customer_of(db, user_id).await?.ok_or(BillingError::NotFound)?;
    if !id.starts_with("sub_") {
        return Err(BillingError::NotFound);
    }
    // One read, as Stripe's JSON: typed for the caller, stored as it came for the mirror.
    let read_at = crate::clock::now_ms().div_euclid(1000);
    let raw = match stripe.retrieve("subscriptions", id).await {
        Err(StripeApiError::Api { status: 404, .. }) => return Err(BillingError::NotFound),
        other => other?,
    };
    let subscription: Subscription = miniserde::json::from_str(&raw.to_string())
        .map_err(|_| BillingError::Unexpected(format!("subscription {id} is not in Stripe's shape")))?;
    if subscription.customer.id().as_str() != customer {
        return Err(BillingError::NotFound);
    }
    crate::events::store_read(db, crate::events::MirroredKind::Subscription, &raw, read_at)
        .await
        .map_err(|e| BillingError::Unexpected(format!("storing what Stripe said: {e}")))?;
    Ok(subscription)
}

/// Why the last attempt to pay PaymentIntent `id` failed, in Stripe's words for the customer
/// ("Your card was declined."), if it belongs to account `user_id` and failed.
pub async fn payment_failure(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    id: &str,
) -> Result<Option<String>, BillingError> {
    let customer = super::customer_of(db, user_id).await?.ok_or(BillingError::NotFound)?;
    let intent = match stripe.retrieve("payment_intents", id).await {
        Err(StripeApiError::Api { status: 404, .. } | StripeApiError::Config(_)) => return Err(BillingError::NotFound),
        other => other?,
    };
    if intent["customer"].as_str() != Some(customer.as_str()) {
        return Err(BillingError::NotFound);
    }
    Ok(intent.pointer("/last_payment_error/message").and_then(serde_json::Value::as_str).map(str::to_owned))
}
