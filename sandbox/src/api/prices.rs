//! `/v1/prices`: create (one-time or recurring, with a `lookup_key` that one price holds at a
//! time), retrieve, update, list (`active`, `product`, `type`, `currency`, `lookup_keys[]`).

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Map, Value, json};

use super::{answer, events, list_page, retrieve_object};
use crate::{
    Sandbox,
    error::ApiError,
    params::{Params, apply_metadata},
    store::{Page, new_id},
};

/// The price that holds `lookup_key`, if any.
async fn holder(sandbox: &Sandbox, lookup_key: &str) -> Result<Option<Value>, ApiError> {
    let all = Page { limit: 1, ..Page::default() };
    Ok(sandbox.store.list("price", &all, |p| p["lookup_key"] == lookup_key).await?.0.pop())
}

/// Gives `price` the lookup key; the price holding it gives it up only with
/// `transfer_lookup_key=true`.
async fn take_lookup_key(sandbox: &Sandbox, price: &mut Value, key: String, transfer: bool) -> Result<(), ApiError> {
    if let Some(mut other) = holder(sandbox, &key).await?.filter(|p| p["id"] != price["id"]) {
        if !transfer {
            return Err(ApiError::invalid_param(
                "lookup_key",
                format!("A price ({}) already uses that lookup key.", other["id"].as_str().unwrap_or_default()),
            ));
        }
        other["lookup_key"] = Value::Null;
        sandbox.store.update(&other).await?;
        events::record(
            sandbox,
            "price.updated",
            &other,
            Some(Map::from_iter([("lookup_key".into(), key.clone().into())])),
        )
        .await?;
    }
    price["lookup_key"] = key.into();
    Ok(())
}

/// The fields `create` and `update` both take.
async fn apply(sandbox: &Sandbox, price: &mut Value, params: &mut Params) -> Result<Map<String, Value>, ApiError> {
    let before = price.clone();
    if let Some(active) = params.boolean("active")? {
        price["active"] = active.into();
    }
    if let Some(nickname) = params.string("nickname")? {
        price["nickname"] = if nickname.is_empty() { Value::Null } else { nickname.into() };
    }
    if let Some(update) = params.metadata()? {
        apply_metadata(&mut price["metadata"], update);
    }
    if let Some(behavior) = params.one_of("tax_behavior", &["exclusive", "inclusive", "unspecified"])? {
        price["tax_behavior"] = behavior.into();
    }
    let transfer = params.boolean("transfer_lookup_key")?.unwrap_or(false);
    if let Some(key) = params.string("lookup_key")? {
        if key.is_empty() {
            price["lookup_key"] = Value::Null;
        } else {
            take_lookup_key(sandbox, price, key, transfer).await?;
        }
    }
    let mut previous = Map::new();
    for (field, old) in before.as_object().into_iter().flatten() {
        if price[field.as_str()] != *old {
            previous.insert(field.clone(), old.clone());
        }
    }
    Ok(previous)
}

pub async fn create(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let mut price: Value = serde_json::from_str(include_str!("../templates/price.json")).unwrap_or_default();
    price["id"] = new_id("price").into();
    price["created"] = sandbox.now().into();
    let currency = params.required("currency")?.to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(ApiError::invalid_param("currency", format!("Invalid currency: {currency}")));
    }
    price["currency"] = currency.into();
    let product = params.required("product")?;
    price["product"] = sandbox.store.get("product", &product, "product").await?["id"].clone();
    let amount = params.integer("unit_amount")?.ok_or_else(|| ApiError::missing_param("unit_amount"))?;
    if amount < 0 {
        return Err(ApiError::invalid_param("unit_amount", "This value must be greater than or equal to 0.".into()));
    }
    price["unit_amount"] = amount.into();
    price["unit_amount_decimal"] = amount.to_string().into();
    if let Some(mut recurring) = params.object("recurring")? {
        let interval = recurring.one_of("interval", &["day", "week", "month", "year"])?;
        let interval = interval.ok_or_else(|| ApiError::missing_param("recurring[interval]"))?;
        let count = recurring.integer("interval_count")?.unwrap_or(1);
        if !(1..=365).contains(&count) {
            return Err(ApiError::invalid_param("recurring[interval_count]", "Invalid interval count.".into()));
        }
        let usage = recurring.one_of("usage_type", &["licensed"])?.unwrap_or_else(|| "licensed".into());
        recurring.finish()?;
        price["type"] = "recurring".into();
        price["recurring"] = json!({
            "interval": interval, "interval_count": count, "meter": null, "usage_type": usage, "trial_period_days": null
        });
    }
    apply(&sandbox, &mut price, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.insert(&price).await?;
    events::record(&sandbox, "price.created", &price, None).await?;
    answer(&sandbox, price, &paths).await
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    retrieve_object(&sandbox, "price", &id, params).await
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut price = sandbox.store.get("price", &id, "id").await?;
    let previous = apply(&sandbox, &mut price, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    events::save_changes(&sandbox, &mut price, previous, "price.updated", None).await?;
    answer(&sandbox, price, &paths).await
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let active = params.boolean("active")?;
    let product = params.string("product")?;
    let kind = params.one_of("type", &["one_time", "recurring"])?;
    let currency = params.string("currency")?;
    let lookup_keys = params.strings("lookup_keys")?;
    if lookup_keys.as_ref().is_some_and(|keys| keys.len() > 10) {
        return Err(ApiError::invalid_param("lookup_keys", "At most 10 lookup keys at once.".into()));
    }
    let paths = params.expand()?;
    params.finish()?;
    list_page(&sandbox, "price", "/v1/prices", &page, &paths, |p| {
        active.is_none_or(|a| p["active"] == a)
            && product.as_deref().is_none_or(|id| p["product"] == id)
            && kind.as_deref().is_none_or(|t| p["type"] == t)
            && currency.as_deref().is_none_or(|c| p["currency"] == c)
            && lookup_keys.as_ref().is_none_or(|keys| keys.iter().any(|k| p["lookup_key"] == k.as_str()))
    })
    .await
}
