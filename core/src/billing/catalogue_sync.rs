//! `billhook stripe sync-catalog`: makes Stripe's products and prices match the catalogue. Each
//! subscription type is the product `billhook_{key}`; each price is found by its lookup key.
//! Prices are immutable at Stripe, so a price whose amount, currency or interval changed in the
//! configuration is created anew and takes the lookup key over (`transfer_lookup_key`): existing
//! subscriptions keep the price they were sold, new ones get the new one. Running it again
//! changes nothing.

use std::str::FromStr;

use billhook_model::{Catalogue, CataloguePrice, Interval, SubscriptionType};
use stripe_product::{
    price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice},
    product::{CreateProduct, RetrieveProduct, UpdateProduct},
};
use stripe_shared::{Price, Product, RecurringInterval};

use super::BillingError;
use crate::stripe_api::{StripeApi, StripeApiError};

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub products_created: usize,
    pub products_updated: usize,
    pub prices_created: usize,
    /// Prices already as configured.
    pub prices_unchanged: usize,
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "products: {} created, {} updated; prices: {} created, {} unchanged",
            self.products_created, self.products_updated, self.prices_created, self.prices_unchanged
        )
    }
}

/// Brings Stripe's products and prices in line with `catalogue`.
pub async fn sync_catalogue(stripe: &StripeApi, catalogue: &Catalogue) -> Result<SyncReport, BillingError> {
    catalogue.validate()?;
    let mut report = SyncReport::default();
    for kind in &catalogue.types {
        sync_product(stripe, kind, &mut report).await?;
    }
    let lookup_keys: Vec<String> = catalogue.prices().map(|(_, p)| p.lookup_key.clone()).collect();
    let mut existing: Vec<Price> = Vec::new();
    // Stripe takes at most 10 lookup keys per list call.
    for keys in lookup_keys.chunks(10) {
        let page = ListPrice::new()
            .lookup_keys(keys.to_vec())
            .limit(100)
            .send(stripe.client())
            .await
            .map_err(StripeApiError::from)?;
        existing.extend(page.data);
    }
    for (kind, price) in catalogue.prices() {
        let current = existing.iter().find(|p| p.lookup_key.as_deref() == Some(price.lookup_key.as_str()));
        if current.is_some_and(|p| is_as_configured(p, kind, price)) {
            report.prices_unchanged += 1;
            continue;
        }
        create_price(stripe, kind, price).await?;
        report.prices_created += 1;
    }
    Ok(report)
}

async fn sync_product(
    stripe: &StripeApi,
    kind: &SubscriptionType,
    report: &mut SyncReport,
) -> Result<(), BillingError> {
    let id = kind.product_id();
    let client = stripe.client();
    match RetrieveProduct::new(id.as_str()).send(client).await.map_err(StripeApiError::from) {
        Ok(product) if is_product_as_configured(&product, kind) => Ok(()),
        Ok(_) => {
            let mut update = UpdateProduct::new(id.as_str()).name(kind.name.as_str()).active(true);
            if !kind.description.is_empty() {
                update = update.description(kind.description.as_str());
            }
            update.send(client).await.map_err(StripeApiError::from)?;
            report.products_updated += 1;
            Ok(())
        }
        Err(StripeApiError::Api { status: 404, .. }) => {
            let mut create = CreateProduct::new(kind.name.as_str())
                .id(id.as_str())
                .metadata([("billhook_type".to_owned(), kind.key.clone())]);
            if !kind.description.is_empty() {
                create = create.description(kind.description.as_str());
            }
            create.send(client).await.map_err(StripeApiError::from)?;
            report.products_created += 1;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn is_product_as_configured(product: &Product, kind: &SubscriptionType) -> bool {
    product.active
        && product.name == kind.name
        && (kind.description.is_empty() || product.description.as_deref() == Some(kind.description.as_str()))
}

fn is_as_configured(price: &Price, kind: &SubscriptionType, wanted: &CataloguePrice) -> bool {
    let interval = price.recurring.as_ref().map(|r| (&r.interval, r.interval_count));
    let wanted_interval = match wanted.interval {
        Interval::Month => RecurringInterval::Month,
        Interval::Year => RecurringInterval::Year,
    };
    price.active
        && price.unit_amount == Some(wanted.amount)
        && price.currency.to_string() == wanted.currency
        && interval == Some((&wanted_interval, 1))
        && price.product.id().as_str() == kind.product_id()
}

async fn create_price(stripe: &StripeApi, kind: &SubscriptionType, price: &CataloguePrice) -> Result<(), BillingError> {
    let currency = stripe_types::Currency::from_str(&price.currency).unwrap_or_else(|never| match never {});
    let interval = match price.interval {
        Interval::Month => CreatePriceRecurringInterval::Month,
        Interval::Year => CreatePriceRecurringInterval::Year,
    };
    CreatePrice::new(currency)
        .product(kind.product_id())
        .unit_amount(price.amount)
        .recurring(CreatePriceRecurring::new(interval))
        .lookup_key(price.lookup_key.as_str())
        .transfer_lookup_key(true)
        .metadata([("billhook_type".to_owned(), kind.key.clone())])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    Ok(())
}
