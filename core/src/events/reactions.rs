//! What billing events set in motion besides the mirror: the customer's e-mails (a receipt, a
//! failed payment, a payment waiting for them, a cancellation) and the follow-up work that needs
//! Stripe (an add-on whose required plan ended; a new card becoming the default). Everything is
//! queued inside the transaction that marks the event processed, so each event mails and asks
//! once, however often its job runs.
//!
//! Events arrive out of order: a mail about an invoice that waits for its customer is sent only
//! while the mirror still holds that invoice open (an `invoice.paid` that overtook it wins).

use billhook_model::{InvoiceStatus, SubscriptionStatus};
use serde_json::Value;

use super::{
    ProcessError,
    mirror::{SourceEvent, customer_id},
};
use crate::{
    db::Tx,
    email::Template,
    jobs::{self, AdoptCard, Cause, EnforceRequirements, SendEmail},
    on_tx,
};

/// The page where a customer completes the payment of invoice `id`.
pub fn payment_path(invoice_id: &str) -> String {
    format!("/account/invoices/{invoice_id}/pay")
}

/// Queues what `event` sets in motion, inside `tx`.
pub(super) async fn react(tx: &mut Tx, event: &SourceEvent<'_>) -> Result<(), ProcessError> {
    let object = event.object;
    let because = Cause::Event(event.id);
    let Some(customer) = customer_id(object) else { return Ok(()) };
    let Some(owner) = owner(tx, customer).await? else { return Ok(()) };
    let str_of = |field: &str| object.get(field).and_then(Value::as_str).unwrap_or_default();
    let subscription_status = SubscriptionStatus::parse(str_of("status")).ok();
    let invoice_id = str_of("id");
    // The first invoice of a subscription is paid in the browser: its customer is on the page.
    let renewal = event.event_type.starts_with("invoice.") && str_of("billing_reason") != "subscription_create";
    let mail = match event.event_type {
        "invoice.paid" if object["amount_paid"].as_i64().unwrap_or_default() > 0 => Some(Template::Receipt {
            invoice_id: object["number"].as_str().unwrap_or(invoice_id).to_owned(),
            amount_minor: object["amount_paid"].as_i64().unwrap_or_default(),
            currency: str_of("currency").to_owned(),
        }),
        "invoice.payment_failed" if renewal && still_open(tx, invoice_id).await? => Some(Template::PaymentFailed {
            invoice_id: object["number"].as_str().unwrap_or(invoice_id).to_owned(),
            path: Some(payment_path(invoice_id)),
        }),
        "invoice.payment_action_required" if renewal && still_open(tx, invoice_id).await? => {
            Some(Template::PaymentActionRequired { path: payment_path(invoice_id) })
        }
        "customer.subscription.deleted" if subscription_status != Some(SubscriptionStatus::IncompleteExpired) => {
            Some(Template::SubscriptionCancelled { plan: plan_name(object) })
        }
        _ => None,
    };
    if let Some(template) = mail {
        let mail = SendEmail { id: format!("{}-{}", event.id, template.name()), to: owner.email, template };
        jobs::enqueue_because(tx, because, &[mail]).await?;
    }

    let ended = event.event_type.starts_with("customer.subscription.")
        && subscription_status.is_some_and(|s| !s.grants_access() && s != SubscriptionStatus::Incomplete);
    if ended {
        jobs::enqueue_because(tx, because, &[EnforceRequirements { customer: customer.to_owned() }]).await?;
    }
    if event.event_type == "setup_intent.succeeded" {
        let adopt = AdoptCard { user_id: owner.user_id, setup_intent: str_of("id").to_owned() };
        jobs::enqueue_because(tx, because, &[adopt]).await?;
    }
    Ok(())
}

struct Owner {
    user_id: i64,
    email: String,
}

/// The account behind Stripe customer `customer`, if it is one of Billhook's.
async fn owner(tx: &mut Tx, customer: &str) -> Result<Option<Owner>, ProcessError> {
    let found: Option<(i64, String)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT u.id, u.email FROM billing_customers b JOIN users u ON u.id = b.user_id WHERE b.customer_id = $1",
        )
        .bind(customer)
        .fetch_optional(conn)
        .await
    })?;
    Ok(found.map(|(user_id, email)| Owner { user_id, email }))
}

/// Whether the mirror (just updated by this event, or by a newer one) holds invoice `id` open.
async fn still_open(tx: &mut Tx, id: &str) -> Result<bool, ProcessError> {
    let status: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT status FROM stripe_invoices WHERE id = $1").bind(id).fetch_optional(conn).await
    })?;
    Ok(status.as_deref() == Some(InvoiceStatus::Open.as_str()))
}

/// The plan's name as billing wrote it on the subscription, else its price's lookup key.
fn plan_name(subscription: &Value) -> String {
    subscription
        .pointer("/metadata/billhook_plan")
        .and_then(Value::as_str)
        .or_else(|| subscription.pointer("/items/data/0/price/lookup_key").and_then(Value::as_str))
        .unwrap_or("subscription")
        .to_owned()
}
