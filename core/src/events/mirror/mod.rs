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

mod stamp;
mod store;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::{
    stamp::{Replace, Stamp, id_and_rank},
    store::upsert,
};
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

/// The source of a row stored from a read of the object rather than from an event.
pub const READ_FROM_STRIPE: &str = "read";

/// The id of the customer an object belongs to (`customer` as an id or expanded).
pub(super) fn customer_id(object: &Value) -> Option<&str> {
    let customer = object.get("customer")?;
    customer.as_str().or_else(|| customer.get("id").and_then(Value::as_str))
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
