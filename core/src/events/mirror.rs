//! Billhook's mirror of Stripe customers and subscriptions, kept from webhook events.
//! Each upsert applies only if its event is newer than the one the row came from:
//! `(created, rank, event id)` compared as a row value, where `rank` orders subscription statuses
//! that Stripe may stamp with the same second (a subscription is created `incomplete` and becomes
//! `active` in the same second; the terminal states win ties).

use billhook_model::SubscriptionStatus;
use serde_json::Value;

use super::ProcessError;
use crate::{db::Tx, on_tx};

/// The event fields a mirror needs.
pub(super) struct SourceEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub created: i64,
    pub object: &'a Value,
}

fn str_field<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str)
}

fn required<'a>(object: &'a Value, field: &str) -> Result<&'a str, ProcessError> {
    str_field(object, field).ok_or_else(|| ProcessError::BadPayload(format!("data.object.{field} is missing")))
}

/// Orders subscription statuses for events stamped with the same second (see
/// [`SubscriptionStatus::rank`]); a status Stripe adds later ranks with `trialing`.
fn status_rank(status: &str) -> i64 {
    SubscriptionStatus::parse(status).map_or(1, SubscriptionStatus::rank)
}

/// Applies `event` to the mirror inside `tx`, the transaction that marks it processed.
pub(super) async fn apply(tx: &mut Tx, event: &SourceEvent<'_>, now_ms: i64) -> Result<(), ProcessError> {
    let object = event.object;
    if event.event_type.starts_with("customer.subscription.") {
        let id = required(object, "id")?;
        let status = required(object, "status")?;
        let customer = str_field(object, "customer");
        let cancel_at_period_end = object.get("cancel_at_period_end").and_then(Value::as_bool).unwrap_or(false);
        // Since API 2025-03-31 the period lives on the items.
        let items = object.pointer("/items/data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let current_period_end = items.iter().filter_map(|i| i.get("current_period_end").and_then(Value::as_i64)).max();
        let prices: Vec<&str> = items.iter().filter_map(|i| i.pointer("/price/id").and_then(Value::as_str)).collect();
        let prices = serde_json::to_string(&prices).unwrap_or_else(|_| "[]".into());
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO stripe_subscriptions (id, customer_id, status, cancel_at_period_end, current_period_end, price_ids, \
                 event_created, event_rank, event_id, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, \
                 cancel_at_period_end = excluded.cancel_at_period_end, current_period_end = excluded.current_period_end, \
                 price_ids = excluded.price_ids, event_created = excluded.event_created, event_rank = excluded.event_rank, \
                 event_id = excluded.event_id, updated_at = excluded.updated_at \
             WHERE (excluded.event_created, excluded.event_rank, excluded.event_id) \
                 > (stripe_subscriptions.event_created, stripe_subscriptions.event_rank, stripe_subscriptions.event_id)",
        )
        .bind(id)
        .bind(customer)
        .bind(status)
        .bind(cancel_at_period_end)
        .bind(current_period_end)
        .bind(prices)
        .bind(event.created)
        .bind(status_rank(status))
        .bind(event.id)
        .bind(now_ms)
        .execute(conn)
        .await
        .map(|_| ()))?;
        return Ok(());
    }

    let id = required(object, "id")?;
    let deleted =
        event.event_type == "customer.deleted" || object.get("deleted").and_then(Value::as_bool) == Some(true);
    // Billing names the account in the customer's metadata when it creates the customer.
    let user_id =
        object.pointer("/metadata/billhook_user_id").and_then(Value::as_str).and_then(|v| v.parse::<i64>().ok());
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO stripe_customers (id, email, name, deleted, event_created, event_rank, event_id, updated_at, user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, deleted = excluded.deleted, \
             user_id = COALESCE(excluded.user_id, stripe_customers.user_id), \
             event_created = excluded.event_created, event_rank = excluded.event_rank, event_id = excluded.event_id, \
             updated_at = excluded.updated_at \
         WHERE (excluded.event_created, excluded.event_rank, excluded.event_id) \
             > (stripe_customers.event_created, stripe_customers.event_rank, stripe_customers.event_id)",
    )
    .bind(id)
    .bind(str_field(object, "email"))
    .bind(str_field(object, "name"))
    .bind(deleted)
    .bind(event.created)
    .bind(i64::from(deleted)) // a deletion wins a tie
    .bind(event.id)
    .bind(now_ms)
    .bind(user_id)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}
