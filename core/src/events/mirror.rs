//! Billhook's mirror of Stripe's billing objects - customers, subscriptions, invoices, payment
//! methods, payment intents and setup intents - kept from webhook events.
//!
//! Each row remembers the stamp of what it came from - `(created, rank, event id)` - and an event
//! applies only if its stamp is newer, so events arriving out of order never roll a row back.
//! `rank` orders subscription statuses that Stripe stamps with the same second (created
//! `incomplete`, `active` a moment later; the terminal states win ties).
//!
//! Stripe stamps events in whole seconds and event ids are random, so two changes of one object
//! within one second (create then update: the common case in a billing flow) cannot be ordered
//! from the events alone. When an event ties with the stored stamp, the mirror applies its best
//! guess and queues a [`RefreshObject`](crate::jobs::RefreshObject) job, which reads the object
//! from Stripe and stores what Stripe says now, stamped with the time of the read.

use billhook_model::{InvoiceStatus, SubscriptionStatus};
use serde::{Deserialize, Serialize};
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

/// The kinds of Stripe object Billhook mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MirroredKind {
    Customer,
    Subscription,
    Invoice,
    PaymentMethod,
    PaymentIntent,
    SetupIntent,
}

impl MirroredKind {
    /// The kind an event of `event_type` is about, or None: not mirrored.
    pub fn of_event(event_type: &str) -> Option<Self> {
        match event_type {
            "customer.created" | "customer.updated" | "customer.deleted" => Some(Self::Customer),
            t if t.starts_with("customer.subscription.") => Some(Self::Subscription),
            t if t.starts_with("invoice.") => Some(Self::Invoice),
            t if t.starts_with("payment_method.") => Some(Self::PaymentMethod),
            t if t.starts_with("payment_intent.") => Some(Self::PaymentIntent),
            t if t.starts_with("setup_intent.") => Some(Self::SetupIntent),
            _ => None,
        }
    }

    /// Where Stripe's API serves one object of this kind (after `/v1/`).
    pub fn api_path(self) -> &'static str {
        match self {
            Self::Customer => "customers",
            Self::Subscription => "subscriptions",
            Self::Invoice => "invoices",
            Self::PaymentMethod => "payment_methods",
            Self::PaymentIntent => "payment_intents",
            Self::SetupIntent => "setup_intents",
        }
    }

    /// The queue its events are processed on.
    pub fn queue(self) -> &'static str {
        match self {
            Self::Customer => crate::jobs::CUSTOMERS_QUEUE,
            Self::Subscription => crate::jobs::SUBSCRIPTIONS_QUEUE,
            Self::Invoice => crate::jobs::INVOICES_QUEUE,
            Self::PaymentMethod | Self::PaymentIntent | Self::SetupIntent => crate::jobs::PAYMENTS_QUEUE,
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::Customer => "stripe_customers",
            Self::Subscription => "stripe_subscriptions",
            Self::Invoice => "stripe_invoices",
            Self::PaymentMethod => "stripe_payment_methods",
            Self::PaymentIntent => "stripe_payment_intents",
            Self::SetupIntent => "stripe_setup_intents",
        }
    }
}

/// What orders the versions of one object.
struct Stamp<'a> {
    /// Unix seconds.
    created: i64,
    rank: i64,
    /// The event's id, or [`READ_FROM_STRIPE`].
    source: &'a str,
}

/// The source of a row stored from a read of the object rather than from an event.
pub const READ_FROM_STRIPE: &str = "read";

/// When an upsert replaces the stored row.
#[derive(Clone, Copy)]
enum Replace {
    /// The stamp is newer (an event).
    IfNewer,
    /// The stored row is not newer (a read from Stripe: newer than any event of an earlier second).
    IfNotOlder,
}

impl Replace {
    fn condition(self, table: &str) -> String {
        match self {
            Self::IfNewer => format!(
                "(excluded.event_created, excluded.event_rank, excluded.event_id) \
                 > ({table}.event_created, {table}.event_rank, {table}.event_id)"
            ),
            Self::IfNotOlder => format!("excluded.event_created >= {table}.event_created"),
        }
    }
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

/// The object's id and its rank among versions stamped with the same second.
fn id_and_rank<'a>(kind: MirroredKind, object: &'a Value, event_type: &str) -> Result<(&'a str, i64), ProcessError> {
    let id = required(object, "id")?;
    let rank = match kind {
        MirroredKind::Subscription => status_rank(required(object, "status")?),
        // A deletion wins a tie.
        MirroredKind::Customer => i64::from(is_deleted_customer(object, event_type)),
        _ => state_of(kind, object, event_type)?.1,
    };
    Ok((id, rank))
}

/// The status stored for an invoice, payment method or intent, and its rank among versions
/// stamped with the same second: the further along its life, the higher.
fn state_of<'a>(kind: MirroredKind, object: &'a Value, event_type: &str) -> Result<(&'a str, i64), ProcessError> {
    let deleted = object.get("deleted").and_then(Value::as_bool) == Some(true);
    Ok(match kind {
        MirroredKind::Invoice if deleted || event_type == "invoice.deleted" => ("deleted", 400),
        MirroredKind::Invoice => {
            let status = required(object, "status")?;
            // An open invoice's versions of one second differ by their attempts to pay
            // (finalized, then the charge that needs the customer): more attempts is newer.
            let attempts = object["attempt_count"].as_i64().unwrap_or_default().clamp(0, 100);
            let rank = match InvoiceStatus::parse(status) {
                Ok(InvoiceStatus::Draft) => 0,
                Ok(InvoiceStatus::Open) => 1 + attempts,
                Ok(InvoiceStatus::Uncollectible) => 200,
                _ => 300,
            };
            (status, rank)
        }
        // Detached: Stripe clears `customer`.
        MirroredKind::PaymentMethod if event_type == "payment_method.detached" || object["customer"].is_null() => {
            ("detached", 1)
        }
        MirroredKind::PaymentMethod => ("attached", 0),
        _ => {
            let status = required(object, "status")?;
            let rank = match status {
                "requires_payment_method" => 0,
                "requires_confirmation" => 1,
                "requires_action" => 2,
                "processing" => 3,
                "requires_capture" => 4,
                _ => 5,
            };
            (status, rank)
        }
    })
}

/// The id of the customer an object belongs to (`customer` as an id or expanded).
pub(super) fn customer_id(object: &Value) -> Option<&str> {
    let customer = object.get("customer")?;
    customer.as_str().or_else(|| customer.get("id").and_then(Value::as_str))
}

fn is_deleted_customer(object: &Value, event_type: &str) -> bool {
    event_type == "customer.deleted" || object.get("deleted").and_then(Value::as_bool) == Some(true)
}

/// Applies `event` to the mirror inside `tx`, the transaction that marks it processed. Returns
/// true when the event ties with the stored row's second: the order is a guess, and the object
/// should be read from Stripe.
pub(super) async fn apply(tx: &mut Tx, event: &SourceEvent<'_>, now_ms: i64) -> Result<bool, ProcessError> {
    let Some(kind) = MirroredKind::of_event(event.event_type) else { return Ok(false) };
    let (id, rank) = id_and_rank(kind, event.object, event.event_type)?;
    lock_object(tx, id).await?;
    let stored = stored_stamp(tx, kind, id).await?;
    let tie = stored.is_some_and(|(created, source)| created == event.created && source != event.id);
    let stamp = Stamp { created: event.created, rank, source: event.id };
    upsert(tx, kind, event.object, event.event_type, &stamp, Replace::IfNewer, now_ms).await?;
    Ok(tie)
}

/// Stores `object` as Stripe answered it at `read_at` (unix seconds), unless the row already
/// holds a version from a later second. Returns whether it was stored.
pub async fn store_read(
    tx: &mut Tx,
    kind: MirroredKind,
    object: &Value,
    read_at: i64,
    now_ms: i64,
) -> Result<bool, ProcessError> {
    let (id, rank) = id_and_rank(kind, object, "")?;
    lock_object(tx, id).await?;
    // Test clocks stamp events with their own time, which may run ahead of ours: a read is at
    // least as new as the version it was asked to settle.
    let created = stored_stamp(tx, kind, id).await?.map_or(read_at, |(created, _)| created.max(read_at));
    let stamp = Stamp { created, rank, source: READ_FROM_STRIPE };
    upsert(tx, kind, object, "", &stamp, Replace::IfNotOlder, now_ms).await
}

/// Holds object `id` for this transaction, so that reading its stamp, telling a tie and writing
/// are one step for whoever processes the same object at the same moment. PostgreSQL: a
/// transaction-scoped advisory lock on the id (a row lock cannot hold a row not inserted yet).
/// SQLite: nothing to do, the transaction already holds the database's one write lock.
async fn lock_object(tx: &mut Tx, id: &str) -> Result<(), ProcessError> {
    if let Tx::Postgres(tx) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The stored row's `(event_created, event_id)`.
async fn stored_stamp(tx: &mut Tx, kind: MirroredKind, id: &str) -> Result<Option<(i64, String)>, ProcessError> {
    let sql = format!("SELECT event_created, event_id FROM {} WHERE id = $1", kind.table());
    Ok(on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await)?)
}

async fn upsert(
    tx: &mut Tx,
    kind: MirroredKind,
    object: &Value,
    event_type: &str,
    stamp: &Stamp<'_>,
    replace: Replace,
    now_ms: i64,
) -> Result<bool, ProcessError> {
    let id = required(object, "id")?;
    let stored = match kind {
        MirroredKind::Subscription => {
            let status = required(object, "status")?;
            let customer = customer_id(object);
            let cancel_at_period_end = object.get("cancel_at_period_end").and_then(Value::as_bool).unwrap_or(false);
            // Since API 2025-03-31 the period lives on the items.
            let items = object.pointer("/items/data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let current_period_end =
                items.iter().filter_map(|i| i.get("current_period_end").and_then(Value::as_i64)).max();
            let prices: Vec<&str> =
                items.iter().filter_map(|i| i.pointer("/price/id").and_then(Value::as_str)).collect();
            let prices = serde_json::to_string(&prices).unwrap_or_else(|_| "[]".into());
            let sql = format!(
                "INSERT INTO stripe_subscriptions (id, customer_id, status, cancel_at_period_end, current_period_end, \
                     price_ids, event_created, event_rank, event_id, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, \
                     cancel_at_period_end = excluded.cancel_at_period_end, \
                     current_period_end = excluded.current_period_end, price_ids = excluded.price_ids, \
                     event_created = excluded.event_created, event_rank = excluded.event_rank, \
                     event_id = excluded.event_id, updated_at = excluded.updated_at \
                 WHERE {}",
                replace.condition("stripe_subscriptions")
            );
            on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(customer)
                .bind(status)
                .bind(cancel_at_period_end)
                .bind(current_period_end)
                .bind(&prices)
                .bind(stamp.created)
                .bind(stamp.rank)
                .bind(stamp.source)
                .bind(now_ms)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?
        }
        MirroredKind::Customer => {
            // Billing names the account in the customer's metadata when it creates the customer.
            let user_id = object
                .pointer("/metadata/billhook_user_id")
                .and_then(Value::as_str)
                .and_then(|v| v.parse::<i64>().ok());
            let sql = format!(
                "INSERT INTO stripe_customers (id, email, name, deleted, event_created, event_rank, event_id, \
                     updated_at, user_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, \
                     deleted = excluded.deleted, user_id = COALESCE(excluded.user_id, stripe_customers.user_id), \
                     event_created = excluded.event_created, event_rank = excluded.event_rank, \
                     event_id = excluded.event_id, updated_at = excluded.updated_at \
                 WHERE {}",
                replace.condition("stripe_customers")
            );
            on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(str_field(object, "email"))
                .bind(str_field(object, "name"))
                .bind(is_deleted_customer(object, event_type))
                .bind(stamp.created)
                .bind(stamp.rank)
                .bind(stamp.source)
                .bind(now_ms)
                .bind(user_id)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?
        }
        kind => {
            let (status, _) = state_of(kind, object, event_type)?;
            let table = kind.table();
            // A detached payment method has no customer any more: keep whose it was.
            let sql = format!(
                "INSERT INTO {table} (id, customer_id, status, object, event_created, event_rank, event_id, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (id) DO UPDATE SET customer_id = COALESCE(excluded.customer_id, {table}.customer_id), \
                     status = excluded.status, object = excluded.object, event_created = excluded.event_created, \
                     event_rank = excluded.event_rank, event_id = excluded.event_id, updated_at = excluded.updated_at \
                 WHERE {}",
                replace.condition(table)
            );
            on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(customer_id(object))
                .bind(status)
                .bind(object.to_string())
                .bind(stamp.created)
                .bind(stamp.rank)
                .bind(stamp.source)
                .bind(now_ms)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?
        }
    };
    Ok(stored > 0)
}
