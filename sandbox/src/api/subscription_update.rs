//! `POST /v1/subscriptions/{id}`: `cancel_at_period_end`, the default card, metadata, and the
//! items (prorated: `subscription_changes`); `DELETE /v1/subscriptions/{id}`: cancel now.

use axum::{
    Json,
    extract::{Path, State},
};
use billhook_model::SubscriptionStatus;
use http::HeaderMap;
use serde_json::{Map, Value};

use super::{events, invoices, renewals, sandbox_base, subscription_changes, subscriptions::answer_current};
use crate::{
    Sandbox,
    error::ApiError,
    params::{Params, apply_metadata},
    status,
};

pub async fn update(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut subscription = sandbox.store.get("subscription", &id, "id").await?;
    if status::subscription(&subscription) == Some(SubscriptionStatus::Canceled) {
        return Err(ApiError::invalid(format!("A canceled subscription can only update its metadata ({id}).")));
    }
    let before = subscription.clone();
    if let Some(at_end) = params.boolean("cancel_at_period_end")? {
        subscription["cancel_at_period_end"] = at_end.into();
        let end = subscription["items"]["data"][0]["current_period_end"].clone();
        subscription["cancel_at"] = if at_end { end } else { Value::Null };
        subscription["canceled_at"] = if at_end { sandbox.now().into() } else { Value::Null };
    }
    if let Some(method) = params.string("default_payment_method")? {
        subscription["default_payment_method"] = if method.is_empty() {
            Value::Null
        } else {
            sandbox.store.get("payment_method", &method, "default_payment_method").await?["id"].clone()
        };
    }
    if let Some(update) = params.metadata()? {
        apply_metadata(&mut subscription["metadata"], update);
    }
    let behaviour = params.one_of("proration_behavior", &["create_prorations", "always_invoice", "none"])?;
    let behaviour = behaviour.unwrap_or_else(|| "create_prorations".into());
    let proration_date = params.integer("proration_date")?;
    let item_changes = match params.objects("items")? {
        Some(raw) => subscription_changes::parse(&sandbox, raw).await?,
        None => Vec::new(),
    };
    let paths = params.expand()?;
    params.finish()?;
    let mut prorations = Vec::new();
    let mut invoice_now = behaviour == "always_invoice";
    if !item_changes.is_empty() {
        let customer =
            sandbox.store.get("customer", subscription["customer"].as_str().unwrap_or_default(), "customer").await?;
        let at = proration_date.unwrap_or(sandbox.now_for(&customer).await?);
        let mut applied = subscription_changes::apply(&mut subscription, item_changes, at)?;
        if behaviour == "none" {
            applied = applied.without_prorations();
        }
        invoice_now |= applied.cycle_reset;
        prorations = applied.prorations;
    }
    let previous: Map<String, Value> = before
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(field, old)| subscription[field.as_str()] != **old)
        .map(|(field, old)| (field.clone(), old.clone()))
        .collect();
    if !previous.is_empty() {
        sandbox.store.update(&subscription).await?;
        events::record(&sandbox, "customer.subscription.updated", &subscription, Some(previous)).await?;
    }
    if !prorations.is_empty() && !invoice_now {
        subscription_changes::keep_pending(&sandbox, &subscription, &prorations).await?;
    } else if !prorations.is_empty() {
        // always_invoice, or a new billing interval: invoiced and charged now.
        let lines: Vec<_> = prorations.iter().map(subscription_changes::Proration::line).collect();
        let invoice = invoices::raise(&sandbox, &subscription, &lines, "subscription_update", false).await?;
        subscription["latest_invoice"] = invoice["id"].clone();
        sandbox.store.update(&subscription).await?;
        renewals::charge_saved_card(&sandbox, &subscription, &invoice, &sandbox_base(&headers)).await?;
    }
    answer_current(&sandbox, &id, &paths).await
}

/// `DELETE /v1/subscriptions/{id}`: cancels now.
pub async fn cancel(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let paths = params.expand()?;
    params.finish()?;
    let mut subscription = sandbox.store.get("subscription", &id, "id").await?;
    if status::subscription(&subscription) == Some(SubscriptionStatus::Canceled) {
        return Err(ApiError::invalid(format!("This subscription is already canceled ({id}).")));
    }
    let now = sandbox.now();
    status::set(&mut subscription, SubscriptionStatus::Canceled);
    subscription["canceled_at"] = now.into();
    subscription["ended_at"] = now.into();
    subscription["cancellation_details"]["reason"] = "cancellation_requested".into();
    sandbox.store.update(&subscription).await?;
    events::record(&sandbox, "customer.subscription.deleted", &subscription, None).await?;
    answer_current(&sandbox, &id, &paths).await
}
