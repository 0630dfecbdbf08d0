//! `/v1/subscriptions`: create with one or several items (each its own price and quantity),
//! paid through the first invoice - `payment_behavior=default_incomplete` leaves it `incomplete`
//! until the browser confirms `latest_invoice.confirmation_secret`; `allow_incomplete` charges the
//! default card at once - and `payment_settings.save_default_payment_method=on_subscription`
//! keeping the card that paid. Retrieve, list by customer, status and price (changes and
//! cancelling: `subscription_update`). Periods live on the items (API 2025-03-31 and later).

use axum::{
    Json,
    extract::{Path, State},
};
use billhook_model::{InvoiceStatus, SubscriptionStatus};
use http::HeaderMap;
use serde_json::{Value, json};

use super::{
    events, expand,
    intents::{self, Confirmation, Kind},
    invoices::{self, Line},
    list_page, retrieve_object, sandbox_base,
};
use crate::{
    Sandbox,
    error::ApiError,
    params::{Params, apply_metadata},
    periods, status,
    store::new_id,
};

/// The legacy `plan` Stripe still sends beside each item's price.
pub(super) fn plan_of(price: &Value) -> Value {
    json!({
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit", "created": price["created"],
        "currency": price["currency"], "interval": price["recurring"]["interval"],
        "interval_count": price["recurring"]["interval_count"], "livemode": false, "metadata": price["metadata"],
        "meter": null, "nickname": price["nickname"], "product": price["product"], "tiers_mode": null,
        "transform_usage": null, "trial_period_days": null, "usage_type": "licensed",
    })
}

/// Answers with `subscription` as stored now, expanded as asked.
pub(super) async fn answer_current(sandbox: &Sandbox, id: &str, paths: &[String]) -> Result<Json<Value>, ApiError> {
    let mut subscription = sandbox.store.get("subscription", id, "id").await?;
    expand(sandbox, &mut subscription, paths).await?;
    invoices::hide_confirmation_secrets(&mut subscription, paths);
    Ok(Json(subscription))
}

pub async fn create(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let customer = sandbox.store.get("customer", &params.required("customer")?, "customer").await?;
    let behaviour = params.one_of(
        "payment_behavior",
        &["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"],
    )?;
    let behaviour = behaviour.unwrap_or_else(|| "allow_incomplete".into());
    if !["allow_incomplete", "default_incomplete"].contains(&behaviour.as_str()) {
        return Err(ApiError::invalid_param(
            "payment_behavior",
            "The sandbox offers payment_behavior default_incomplete and allow_incomplete.".into(),
        ));
    }
    let mut save = "off".to_owned();
    if let Some(mut settings) = params.object("payment_settings")? {
        save = settings.one_of("save_default_payment_method", &["off", "on_subscription"])?.unwrap_or(save);
        settings.finish()?;
    }
    let default_method = match params.string("default_payment_method")? {
        Some(id) => Some(sandbox.store.get("payment_method", &id, "default_payment_method").await?),
        None => None,
    };
    let raw_items = params.objects("items")?.unwrap_or_default();
    let now = sandbox.now_for(&customer).await?;
    let id = new_id("sub");
    let mut items = Vec::new();
    let mut prices = Vec::new();
    for (index, mut item) in raw_items.into_iter().enumerate() {
        let price = sandbox.store.get("price", &item.required("price")?, &format!("items[{index}][price]")).await?;
        let quantity = item.integer("quantity")?.unwrap_or(1);
        item.finish()?;
        if price["type"] != "recurring" {
            return Err(ApiError::invalid_param(
                &format!("items[{index}][price]"),
                "A subscription needs recurring prices.".into(),
            ));
        }
        if quantity < 1 {
            return Err(ApiError::invalid_param(
                &format!("items[{index}][quantity]"),
                "Quantity must be at least 1.".into(),
            ));
        }
        if let Some(first) = prices.first().map(|(p, _): &(Value, i64)| p)
            && (first["currency"] != price["currency"]
                || first["recurring"]["interval"] != price["recurring"]["interval"])
        {
            return Err(ApiError::invalid_param(
                &format!("items[{index}][price]"),
                "All items of a subscription need the same currency and billing interval.".into(),
            ));
        }
        prices.push((price, quantity));
    }
    if prices.is_empty() {
        return Err(ApiError::missing_param("items"));
    }
    let interval = prices[0].0["recurring"]["interval"].as_str().unwrap_or("month").to_owned();
    let count = prices[0].0["recurring"]["interval_count"].as_i64().unwrap_or(1);
    let period = (now, periods::advance(now, &interval, count));
    for (price, quantity) in &prices {
        let mut item: Value =
            serde_json::from_str(include_str!("../templates/subscription_item.json")).unwrap_or_default();
        item["id"] = new_id("si").into();
        item["created"] = now.into();
        item["subscription"] = id.clone().into();
        item["price"] = price.clone();
        item["plan"] = plan_of(price);
        item["quantity"] = (*quantity).into();
        item["current_period_start"] = period.0.into();
        item["current_period_end"] = period.1.into();
        items.push(item);
    }

    let mut subscription: Value =
        serde_json::from_str(include_str!("../templates/subscription.json")).unwrap_or_default();
    subscription["id"] = id.clone().into();
    subscription["created"] = now.into();
    subscription["start_date"] = now.into();
    subscription["billing_cycle_anchor"] = now.into();
    subscription["customer"] = customer["id"].clone();
    subscription["test_clock"] = customer["test_clock"].clone();
    subscription["currency"] = prices[0].0["currency"].clone();
    subscription["items"] = json!({ "object": "list", "data": items, "has_more": false, "url": format!("/v1/subscription_items?subscription={id}") });
    subscription["payment_settings"]["save_default_payment_method"] = save.clone().into();
    subscription["default_payment_method"] = default_method.as_ref().map_or(Value::Null, |m| m["id"].clone());
    if let Some(update) = params.metadata()? {
        apply_metadata(&mut subscription["metadata"], update);
    }
    if let Some(description) = params.string("description")? {
        subscription["description"] = description.into();
    }
    if let Some(at_end) = params.boolean("cancel_at_period_end")? {
        subscription["cancel_at_period_end"] = at_end.into();
    }
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.insert(&subscription).await?;
    events::record(&sandbox, "customer.subscription.created", &subscription, None).await?;

    let lines: Vec<Line<'_>> = items
        .iter()
        .zip(&prices)
        .map(|(item, (price, quantity))| Line {
            price,
            quantity: *quantity,
            item_id: item["id"].as_str().unwrap_or_default(),
            period,
            proration: None,
        })
        .collect();
    let invoice =
        invoices::raise(&sandbox, &subscription, &lines, "subscription_create", save == "on_subscription").await?;
    let mut stored = sandbox.store.get("subscription", &id, "id").await?;
    stored["latest_invoice"] = invoice["id"].clone();
    sandbox.store.update(&stored).await?;

    // allow_incomplete: charge the subscription's (or the customer's) default card now; a card
    // that fails or needs authentication leaves the subscription incomplete, as with Stripe.
    let card = default_method.map(|m| m["id"].clone()).or_else(|| {
        let default = &customer["invoice_settings"]["default_payment_method"];
        (!default.is_null()).then(|| default.clone())
    });
    if behaviour == "allow_incomplete"
        && status::invoice(&invoice) == Some(InvoiceStatus::Open)
        && let (Some(card), Some(secret)) = (card, invoice["confirmation_secret"]["client_secret"].as_str())
    {
        let intent_id = secret.split("_secret_").next().unwrap_or_default();
        let mut intent = sandbox.store.get("payment_intent", intent_id, "payment_intent").await?;
        intent["payment_method"] = card;
        let base = sandbox_base(&headers);
        let how = Confirmation { off_session: false, return_url: None, sandbox_base: &base };
        if let Err(e) = intents::confirm(&sandbox, Kind::Payment, &mut intent, how).await {
            tracing::debug!(subscription = %id, error = %e.message, "the first payment failed; the subscription stays incomplete");
        }
    }
    answer_current(&sandbox, &id, &paths).await
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    retrieve_object(&sandbox, "subscription", &id, params).await
}

/// The subscriptions a list asks for.
#[derive(Clone, Copy)]
enum Wanted {
    All,
    Ended,
    Status(SubscriptionStatus),
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let customer = params.string("customer")?;
    let price = params.string("price")?;
    // `all` and `ended` besides the statuses themselves; none: every subscription not canceled.
    let wanted = match params.string("status")?.as_deref() {
        None => None,
        Some("all") => Some(Wanted::All),
        Some("ended") => Some(Wanted::Ended),
        Some(other) => Some(Wanted::Status(
            SubscriptionStatus::parse(other)
                .map_err(|e| ApiError::invalid_param("status", format!("Invalid status: {e}")))?,
        )),
    };
    let paths = params.expand()?;
    params.finish()?;
    list_page(&sandbox, "subscription", "/v1/subscriptions", &page, &paths, |s| {
        let state = status::subscription(s);
        customer.as_deref().is_none_or(|c| s["customer"] == c)
            && price
                .as_deref()
                .is_none_or(|p| s["items"]["data"].as_array().is_some_and(|i| i.iter().any(|i| i["price"]["id"] == p)))
            && match wanted {
                None => state != Some(SubscriptionStatus::Canceled),
                Some(Wanted::All) => true,
                Some(Wanted::Ended) => {
                    matches!(state, Some(SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired))
                }
                Some(Wanted::Status(wanted)) => state == Some(wanted),
            }
    })
    .await
}
