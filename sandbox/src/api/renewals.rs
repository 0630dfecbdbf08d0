//! What time does to subscriptions when a test clock moves: each period that ends is renewed -
//! a new invoice, charged off-session to the saved card (paid; declined, and the subscription
//! `past_due`; or needing the customer, `invoice.payment_action_required`) - a subscription set
//! to cancel at period end ends, and one left `incomplete` for 23 hours expires. Boundaries are
//! run in time order across all the clock's subscriptions, each at its own moment.

use billhook_model::{InvoiceStatus, SubscriptionStatus::*};
use serde_json::{Map, Value};

use super::{
    events,
    intents::{self, Confirmation, Kind},
    invoices::{self, Line},
    subscription_changes,
};
use crate::{Sandbox, error::ApiError, periods, status, store::Page};

/// How long a subscription may stay `incomplete` before it expires (Stripe: 23 hours).
const INCOMPLETE_FOR: i64 = 23 * 3600;

/// The next moment something happens to `subscription`, if anything will.
pub fn next_boundary(subscription: &Value) -> Option<i64> {
    match status::subscription(subscription)? {
        Incomplete => Some(subscription["created"].as_i64()? + INCOMPLETE_FOR),
        Active | PastDue | Trialing | Unpaid => subscription["items"]["data"][0]["current_period_end"].as_i64(),
        IncompleteExpired | Canceled | Paused => None,
    }
}

/// Runs every boundary of the clock's subscriptions up to `until`, moving the clock's
/// `frozen_time` to each in turn.
pub async fn run(sandbox: &Sandbox, clock: &mut Value, until: i64, sandbox_base: &str) -> Result<(), ApiError> {
    let clock_id = clock["id"].as_str().unwrap_or_default().to_owned();
    let all = Page { limit: 10_000, ..Page::default() };
    loop {
        let (subscriptions, _) =
            sandbox.store.list("subscription", &all, |s| s["test_clock"] == clock_id.as_str()).await?;
        let due = subscriptions
            .into_iter()
            .filter_map(|s| next_boundary(&s).filter(|at| *at <= until).map(|at| (at, s)))
            .min_by_key(|(at, s)| (*at, s["id"].as_str().map(str::to_owned)));
        let Some((at, subscription)) = due else { break };
        clock["frozen_time"] = at.into();
        sandbox.store.update(clock).await?;
        renew(sandbox, subscription, at, sandbox_base).await?;
    }
    Ok(())
}

async fn renew(sandbox: &Sandbox, mut subscription: Value, at: i64, sandbox_base: &str) -> Result<(), ApiError> {
    let previous_status = subscription["status"].clone();
    let previous =
        |fields: &[(&str, Value)]| Some(Map::from_iter(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone()))));
    if status::subscription(&subscription) == Some(Incomplete) {
        status::set(&mut subscription, IncompleteExpired);
        subscription["ended_at"] = at.into();
        sandbox.store.update(&subscription).await?;
        if let Some(invoice) = subscription["latest_invoice"].as_str() {
            invoices::void(sandbox, invoice, at).await?;
        }
        let changed = previous(&[("status", previous_status)]);
        return events::record(sandbox, "customer.subscription.updated", &subscription, changed).await.map(|_| ());
    }
    if subscription["cancel_at_period_end"] == true {
        status::set(&mut subscription, Canceled);
        subscription["ended_at"] = at.into();
        subscription["cancellation_details"]["reason"] = "cancellation_requested".into();
        sandbox.store.update(&subscription).await?;
        return events::record(sandbox, "customer.subscription.deleted", &subscription, None).await.map(|_| ());
    }

    // The next period, on every item.
    let old_items = subscription["items"].clone();
    let mut lines_data = Vec::new();
    if let Some(items) = subscription["items"]["data"].as_array_mut() {
        for item in items {
            let interval = item["price"]["recurring"]["interval"].as_str().unwrap_or("month").to_owned();
            let count = item["price"]["recurring"]["interval_count"].as_i64().unwrap_or(1);
            let end = periods::advance(at, &interval, count);
            item["current_period_start"] = at.into();
            item["current_period_end"] = end.into();
            lines_data.push((
                item["price"].clone(),
                item["quantity"].as_i64().unwrap_or(1),
                item["id"].clone(),
                (at, end),
            ));
        }
    }
    sandbox.store.update(&subscription).await?;
    events::record(sandbox, "customer.subscription.updated", &subscription, previous(&[("items", old_items)])).await?;
    // Prorations waiting since a change in the last period come first, then the new period.
    let pending = subscription_changes::take_pending(sandbox, subscription["id"].as_str().unwrap_or_default()).await?;
    let lines: Vec<Line<'_>> = pending
        .iter()
        .map(|p| p.line())
        .chain(lines_data.iter().map(|(price, quantity, item, period)| Line {
            price,
            quantity: *quantity,
            item_id: item.as_str().unwrap_or_default(),
            period: *period,
            proration: None,
        }))
        .collect();
    let invoice = invoices::raise(sandbox, &subscription, &lines, "subscription_cycle", false).await?;
    let mut stored =
        sandbox.store.get("subscription", subscription["id"].as_str().unwrap_or_default(), "subscription").await?;
    stored["latest_invoice"] = invoice["id"].clone();
    sandbox.store.update(&stored).await?;
    charge_saved_card(sandbox, &stored, &invoice, sandbox_base).await
}

/// Charges `invoice` off-session to the subscription's (or customer's) saved card, as Stripe
/// does for renewals: paid; declined (`invoice.payment_failed`); or waiting for the customer
/// (`invoice.payment_action_required`; Billhook mails them a link).
pub async fn charge_saved_card(
    sandbox: &Sandbox,
    subscription: &Value,
    invoice: &Value,
    sandbox_base: &str,
) -> Result<(), ApiError> {
    if status::invoice(invoice) != Some(InvoiceStatus::Open) {
        return Ok(());
    }
    let stored = subscription;
    let customer = sandbox.store.get("customer", stored["customer"].as_str().unwrap_or_default(), "customer").await?;
    let card = [&stored["default_payment_method"], &customer["invoice_settings"]["default_payment_method"]]
        .into_iter()
        .find_map(|m| m.as_str().map(str::to_owned));
    let secret = invoice["confirmation_secret"]["client_secret"].as_str().unwrap_or_default();
    let intent_id = secret.split("_secret_").next().unwrap_or_default().to_owned();
    let Some(card) = card else {
        let mut invoice = sandbox.store.get("invoice", invoice["id"].as_str().unwrap_or_default(), "invoice").await?;
        return invoices::payment_failed(sandbox, &mut invoice).await;
    };
    let mut intent = sandbox.store.get("payment_intent", &intent_id, "payment_intent").await?;
    intent["payment_method"] = card.clone().into();
    let how = Confirmation { off_session: true, return_url: None, sandbox_base };
    match intents::confirm(sandbox, Kind::Payment, &mut intent, how).await {
        Ok(()) => Ok(()),
        // The bank wants the customer: the intent waits for them (Billhook mails a link).
        Err(e) if e.code == Some("authentication_required") => {
            let mut intent = sandbox.store.get("payment_intent", &intent_id, "payment_intent").await?;
            intent["payment_method"] = card.into();
            intents::require_action(sandbox, Kind::Payment, &mut intent, sandbox_base, None).await
        }
        Err(e) => {
            tracing::debug!(subscription = %stored["id"], error = %e.message, "charge declined");
            Ok(())
        }
    }
}
