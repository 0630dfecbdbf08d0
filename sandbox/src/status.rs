//! Stripe's `status` fields of subscriptions and invoices, read and written through Billhook's
//! shared enums (`billhook_model`), so each status is named once.

use billhook_model::{InvoiceStatus, SubscriptionStatus};
use serde_json::Value;

pub fn subscription(object: &Value) -> Option<SubscriptionStatus> {
    SubscriptionStatus::parse(object["status"].as_str()?).ok()
}

pub fn invoice(object: &Value) -> Option<InvoiceStatus> {
    InvoiceStatus::parse(object["status"].as_str()?).ok()
}

/// Sets `object`'s `status` to `status`'s stored name.
pub fn set(object: &mut Value, status: impl std::fmt::Display) {
    object["status"] = status.to_string().into();
}
