//! What orders the versions of one mirrored object: the stamp `(created, rank, event id)`, the
//! rank of each kind's states among versions of one second, and when a write replaces a row.

use billhook_model::{InvoiceStatus, SubscriptionStatus};
use serde_json::Value;

use super::MirroredKind;
use crate::events::ProcessError;

/// What orders the versions of one object.
pub(super) struct Stamp<'a> {
    /// Unix seconds.
    pub(super) created: i64,
    pub(super) rank: i64,
    /// The event's id, or [`READ_FROM_STRIPE`](super::READ_FROM_STRIPE).
    pub(super) source: &'a str,
}

/// When an upsert replaces the stored row.
#[derive(Clone, Copy)]
pub(super) enum Replace {
    /// The stamp is newer (an event).
    IfNewer,
    /// The stored row is not newer (a read from Stripe: newer than any event of an earlier second).
    IfNotOlder,
}

impl Replace {
    pub(super) fn condition(self, table: &str) -> String {
        match self {
            Self::IfNewer => format!(
                "(excluded.event_created, excluded.event_rank, excluded.event_id) \
                 > ({table}.event_created, {table}.event_rank, {table}.event_id)"
            ),
            Self::IfNotOlder => format!("excluded.event_created >= {table}.event_created"),
        }
    }
}

pub(super) fn str_field<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str)
}

pub(super) fn required<'a>(object: &'a Value, field: &str) -> Result<&'a str, ProcessError> {
    str_field(object, field).ok_or_else(|| ProcessError::BadPayload(format!("data.object.{field} is missing")))
}

/// Orders subscription statuses for events stamped with the same second (see
/// [`SubscriptionStatus::rank`]); a status Stripe adds later ranks with `trialing`.
pub(super) fn status_rank(status: &str) -> i64 {
    SubscriptionStatus::parse(status).map_or(1, SubscriptionStatus::rank)
}

/// The object's id and its rank among versions stamped with the same second.
pub(super) fn id_and_rank<'a>(
    kind: MirroredKind,
    object: &'a Value,
    event_type: &str,
) -> Result<(&'a str, i64), ProcessError> {
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
pub(super) fn state_of<'a>(
    kind: MirroredKind,
    object: &'a Value,
    event_type: &str,
) -> Result<(&'a str, i64), ProcessError> {
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

pub(super) fn is_deleted_customer(object: &Value, event_type: &str) -> bool {
    event_type == "customer.deleted" || object.get("deleted").and_then(Value::as_bool) == Some(true)
}
