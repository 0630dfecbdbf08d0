//! `sync_catalogue` (what `billhook stripe sync-catalog` runs): products and prices made to match
//! the configuration by lookup key, idempotently; a changed price takes the lookup key over.

use billhook_core::billing::{SyncReport, sync_catalogue};
use billhook_model::Catalogue;
use serde_json::Value;

use crate::{
    helpers::TestApp,
    on_both_databases,
    sandbox::{Stripe, json},
};

on_both_databases!(the_catalogue_syncs_once_and_a_changed_price_takes_its_lookup_key_over);

async fn price_with_key(stripe: &Stripe, key: &str) -> Value {
    let found = json(stripe.get(&format!("/v1/prices?lookup_keys[]={key}&expand[]=data.product")).await).await;
    let data = found["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "one price holds {key}: {found}");
    data[0].clone()
}

async fn the_catalogue_syncs_once_and_a_changed_price_takes_its_lookup_key_over(app: TestApp) {
    let api = app.stripe_api().unwrap();
    let stripe = Stripe::of(&app).await;
    let mut catalogue = Catalogue::default();

    let first = sync_catalogue(&api, &catalogue).await.unwrap();
    assert_eq!(first, SyncReport { products_created: 2, products_updated: 0, prices_created: 3, prices_unchanged: 0 });
    let basic = price_with_key(&stripe, "basic_yearly").await;
    assert_eq!((basic["unit_amount"].as_i64(), basic["recurring"]["interval"].as_str()), (Some(5000), Some("year")));
    assert_eq!(basic["product"]["id"], "billhook_basic");
    assert_eq!(basic["product"]["name"], "Basic");
    let ssl = price_with_key(&stripe, "ssl_monthly").await;
    assert_eq!(ssl["product"]["name"], "SSL for custom domains");

    let again = sync_catalogue(&api, &catalogue).await.unwrap();
    assert_eq!(again, SyncReport { prices_unchanged: 3, ..SyncReport::default() }, "a second run changes nothing");

    // A new amount and a new name: a new price takes the key, the product is renamed.
    let old_monthly = price_with_key(&stripe, "basic_monthly").await;
    catalogue.types[0].prices[0].amount = 600;
    catalogue.types[0].name = "Basic plan".into();
    let changed = sync_catalogue(&api, &catalogue).await.unwrap();
    assert_eq!(
        changed,
        SyncReport { products_updated: 1, prices_created: 1, prices_unchanged: 2, ..SyncReport::default() }
    );
    let monthly = price_with_key(&stripe, "basic_monthly").await;
    assert_eq!(monthly["unit_amount"], 600);
    assert_ne!(monthly["id"], old_monthly["id"]);
    assert_eq!(monthly["product"]["name"], "Basic plan");
    let old = json(stripe.get(&format!("/v1/prices/{}", old_monthly["id"].as_str().unwrap())).await).await;
    assert_eq!(
        (old["unit_amount"].as_i64(), &old["lookup_key"]),
        (Some(500), &Value::Null),
        "the old price stays, for the subscriptions sold with it"
    );
}
