//! Writing a mirrored object's row: one upsert per kind, guarded by the stamp.

use serde_json::Value;
use sqlx::{Database, Encode, Type, query::Query};

use super::{
    MirroredKind, customer_id,
    stamp::{Replace, Stamp, is_deleted_customer, required, state_of, str_field},
};
use crate::{db::Tx, events::ProcessError, on_tx};

/// Writes `object` as the row of `id` when `replace` allows it over the stored stamp. Returns
/// whether it was stored.
pub(super) async fn upsert(
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
                .with_stamp(stamp, now_ms)
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
                .with_stamp(stamp, now_ms)
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
                .with_stamp(stamp, now_ms)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?
        }
    };
    Ok(stored > 0)
}

/// The values every upsert binds after its own columns: the stamp (event_created, event_rank,
/// event_id), then updated_at.
trait WithStamp {
    fn with_stamp(self, stamp: &Stamp<'_>, now_ms: i64) -> Self;
}

impl<DB: Database> WithStamp for Query<'_, DB, DB::Arguments>
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
{
    fn with_stamp(self, stamp: &Stamp<'_>, now_ms: i64) -> Self {
        self.bind(stamp.created).bind(stamp.rank).bind(stamp.source).bind(now_ms)
    }
}
