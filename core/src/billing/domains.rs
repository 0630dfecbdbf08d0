//! Custom domains are a feature of the subscription types that say so (`custom_domains`, the SSL
//! add-on): an account adds and removes its domains itself while it holds such a type active.

use billhook_model::Catalogue;

use super::{BillingError, customer_of, status_of, subscriptions_at_stripe, type_of};
use crate::{
    custom_domains::{self, CustomDomain},
    db::Db,
    stripe_api::StripeApi,
};

/// Whether account `user_id` holds, active at Stripe now, a type that brings custom domains.
pub async fn custom_domains_allowed(
    db: &Db,
    stripe: &StripeApi,
    catalogue: &Catalogue,
    user_id: i64,
) -> Result<bool, BillingError> {
    let Some(customer) = customer_of(db, user_id).await? else { return Ok(false) };
    Ok(subscriptions_at_stripe(stripe, &customer)
        .await?
        .iter()
        .any(|s| status_of(s).grants_access() && type_of(catalogue, s).is_some_and(|t| t.custom_domains)))
}

/// Adds `hostname` to account `user_id` (its certificate follows), if the account may.
pub async fn add_custom_domain(
    db: &Db,
    stripe: &StripeApi,
    catalogue: &Catalogue,
    user_id: i64,
    hostname: &str,
) -> Result<CustomDomain, BillingError> {
    if !custom_domains_allowed(db, stripe, catalogue, user_id).await? {
        let with = catalogue.types.iter().find(|t| t.custom_domains).map_or("a plan", |t| t.name.as_str());
        return Err(BillingError::DomainsNotIncluded { with: with.to_owned() });
    }
    Ok(custom_domains::add(db, user_id, hostname).await?)
}
