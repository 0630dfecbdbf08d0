//! `/v1/invoices`: the invoices subscriptions raise - one per cycle, finalized at once and paid
//! through a PaymentIntent whose client secret is the invoice's `confirmation_secret` (API
//! 2025-03-31 and later; only sent when expanded, as by Stripe). Retrieve, list by customer or
//! subscription.

use axum::{
    Json,
    extract::{Path, State},
};
use billhook_model::{InvoiceStatus, SubscriptionStatus};
use serde_json::{Value, json};

use super::{events, list_page, retrieve_object};
use crate::{Sandbox, error::ApiError, params::Params, status, store::new_id};

/// The InvoicePayment that links an invoice to the PaymentIntent paying it (a fixed id per
/// intent, so a paid intent finds its invoice).
fn invoice_payment_id(intent_id: &str) -> String {
    format!("inpay_{intent_id}")
}

/// One line of a new invoice: `quantity` of `price` for the item's period.
pub struct Line<'a> {
    pub price: &'a Value,
    pub quantity: i64,
    pub item_id: &'a str,
    pub period: (i64, i64),
    /// A proration's amount (a credit is negative); None: the price times the quantity.
    pub proration: Option<i64>,
}

impl Line<'_> {
    fn amount(&self) -> i64 {
        self.proration
            .unwrap_or_else(|| self.price["unit_amount"].as_i64().unwrap_or_default().saturating_mul(self.quantity))
    }
}

/// The lines of an invoice `id` in `currency` for `subscription`, and their total.
pub fn lines_of(id: &str, currency: &Value, subscription: &Value, lines: &[Line<'_>]) -> (Vec<Value>, i64) {
    let mut data = Vec::new();
    let mut total = 0_i64;
    for line in lines {
        let amount = line.amount();
        total = total.saturating_add(amount);
        let mut item: Value = serde_json::from_str(include_str!("../templates/line_item.json")).unwrap_or_default();
        item["id"] = new_id("il").into();
        item["invoice"] = id.into();
        item["amount"] = amount.into();
        item["subtotal"] = amount.into();
        item["currency"] = currency.clone();
        item["quantity"] = line.quantity.into();
        item["quantity_decimal"] = line.quantity.to_string().into();
        item["period"] = json!({ "start": line.period.0, "end": line.period.1 });
        let name = line.price["nickname"].as_str().unwrap_or("plan");
        item["description"] = match line.proration {
            Some(credit) if credit < 0 => format!("Unused time on {} x {name}", line.quantity),
            Some(_) => format!("Remaining time on {} x {name}", line.quantity),
            None => format!("{} x {name}", line.quantity),
        }
        .into();
        item["parent"]["subscription_item_details"]["proration"] = line.proration.is_some().into();
        item["parent"]["subscription_item_details"]["subscription"] = subscription["id"].clone();
        item["parent"]["subscription_item_details"]["subscription_item"] = line.item_id.into();
        item["pricing"]["price_details"] = json!({ "price": line.price["id"], "product": line.price["product"] });
        item["pricing"]["unit_amount_decimal"] = line.price["unit_amount_decimal"].clone();
        data.push(item);
    }
    (data, total)
}

/// Raises and finalizes the invoice of `subscription` for `lines`; for an amount due, makes the
/// PaymentIntent that pays it (saving the card for later when `save_card`).
pub async fn raise(
    sandbox: &Sandbox,
    subscription: &Value,
    lines: &[Line<'_>],
    billing_reason: &str,
    save_card: bool,
) -> Result<Value, ApiError> {
    let mut invoice: Value = serde_json::from_str(include_str!("../templates/invoice.json")).unwrap_or_default();
    let id = new_id("in");
    let mut customer =
        sandbox.store.get("customer", subscription["customer"].as_str().unwrap_or_default(), "customer").await?;
    let now = sandbox.now_for(&customer).await?;
    // Invoice numbers run per customer: its prefix and next sequence number.
    let sequence = customer["next_invoice_sequence"].as_i64().unwrap_or(1);
    customer["next_invoice_sequence"] = (sequence + 1).into();
    sandbox.store.update(&customer).await?;
    let currency = subscription["currency"].clone();
    let (data, total) = lines_of(&id, &currency, subscription, lines);
    // A credit larger than the charges goes to the customer's balance; nothing is due.
    let total = if total < 0 {
        customer["balance"] = (customer["balance"].as_i64().unwrap_or_default() + total).into();
        sandbox.store.update(&customer).await?;
        0
    } else {
        total
    };
    let (start, end) = lines.iter().find(|l| l.proration.is_none()).or(lines.first()).map_or((now, now), |l| l.period);
    invoice["id"] = id.clone().into();
    invoice["created"] = now.into();
    invoice["customer"] = customer["id"].clone();
    invoice["customer_email"] = customer["email"].clone();
    invoice["customer_name"] = customer["name"].clone();
    invoice["currency"] = currency;
    invoice["subscription"] = subscription["id"].clone();
    invoice["parent"] = json!({
        "quote_details": null, "type": "subscription_details",
        "subscription_details": { "metadata": subscription["metadata"], "subscription": subscription["id"], "subscription_proration_date": null },
    });
    invoice["billing_reason"] = billing_reason.into();
    invoice["lines"] =
        json!({ "object": "list", "data": data, "has_more": false, "url": format!("/v1/invoices/{id}/lines") });
    invoice["number"] = format!("{}-{sequence:04}", customer["invoice_prefix"].as_str().unwrap_or("SBX")).into();
    invoice["period_start"] = start.into();
    invoice["period_end"] = end.into();
    for field in
        ["subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax", "amount_due", "amount_remaining"]
    {
        invoice[field] = total.into();
    }
    status::set(&mut invoice, InvoiceStatus::Open);
    invoice["effective_at"] = now.into();
    invoice["status_transitions"]["finalized_at"] = now.into();
    invoice["hosted_invoice_url"] = super::hosted_invoice::url(sandbox, &id).into();
    sandbox.store.insert(&invoice).await?;
    events::record(sandbox, "invoice.created", &invoice, None).await?;
    events::record(sandbox, "invoice.finalized", &invoice, None).await?;
    if total == 0 {
        mark_paid(sandbox, &mut invoice, None).await?;
        return Ok(invoice);
    }
    let intent = super::payment_intents::for_invoice(sandbox, &invoice, save_card).await?;
    let payment = json!({
        "id": invoice_payment_id(intent["id"].as_str().unwrap_or_default()), "object": "invoice_payment",
        "amount_paid": null, "amount_requested": total, "created": now, "currency": invoice["currency"],
        "invoice": id, "is_default": true, "livemode": false,
        "payment": { "type": "payment_intent", "payment_intent": intent["id"] },
        "status": "open", "status_transitions": { "canceled_at": null, "paid_at": null },
    });
    sandbox.store.insert(&payment).await?;
    invoice["confirmation_secret"] = json!({ "client_secret": intent["client_secret"], "type": "payment_intent" });
    sandbox.store.update(&invoice).await?;
    Ok(invoice)
}

/// The invoice is paid (by `intent`, or nothing was due): the subscription it bills becomes
/// active, keeping the card as its default when it asked to.
async fn mark_paid(sandbox: &Sandbox, invoice: &mut Value, intent: Option<&Value>) -> Result<(), ApiError> {
    let customer = sandbox.store.get("customer", invoice["customer"].as_str().unwrap_or_default(), "customer").await?;
    let now = sandbox.now_for(&customer).await?;
    status::set(invoice, InvoiceStatus::Paid);
    invoice["amount_paid"] = invoice["amount_due"].clone();
    invoice["amount_remaining"] = 0.into();
    invoice["attempted"] = true.into();
    invoice["attempt_count"] =
        (invoice["attempt_count"].as_i64().unwrap_or_default() + i64::from(intent.is_some())).into();
    invoice["status_transitions"]["paid_at"] = now.into();
    sandbox.store.update(invoice).await?;
    events::record(sandbox, "invoice.paid", invoice, None).await?;
    events::record(sandbox, "invoice.payment_succeeded", invoice, None).await?;
    let Some(subscription_id) = invoice["subscription"].as_str() else { return Ok(()) };
    let mut subscription = sandbox.store.get("subscription", subscription_id, "subscription").await?;
    let mut previous = serde_json::Map::new();
    if matches!(
        status::subscription(&subscription),
        Some(SubscriptionStatus::Incomplete | SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid)
    ) {
        previous.insert("status".into(), subscription["status"].clone());
        status::set(&mut subscription, SubscriptionStatus::Active);
    }
    if subscription["payment_settings"]["save_default_payment_method"] == "on_subscription"
        && let Some(method) = intent.and_then(|i| i["payment_method"].as_str())
        && subscription["default_payment_method"] != method
    {
        previous.insert("default_payment_method".into(), subscription["default_payment_method"].clone());
        subscription["default_payment_method"] = method.into();
    }
    if !previous.is_empty() {
        sandbox.store.update(&subscription).await?;
        events::record(sandbox, "customer.subscription.updated", &subscription, Some(previous)).await?;
    }
    Ok(())
}

/// Called when a PaymentIntent settles: if it pays an invoice, the invoice follows.
pub async fn on_intent(sandbox: &Sandbox, intent: &Value) -> Result<(), ApiError> {
    let Some(mut payment) = sandbox.store.find(&invoice_payment_id(intent["id"].as_str().unwrap_or_default())).await?
    else {
        return Ok(());
    };
    let invoice_id = payment["invoice"].as_str().unwrap_or_default().to_owned();
    let mut invoice = sandbox.store.get("invoice", &invoice_id, "invoice").await?;
    match intent["status"].as_str().unwrap_or_default() {
        "succeeded" => {
            payment["status"] = "paid".into();
            payment["amount_paid"] = intent["amount"].clone();
            payment["status_transitions"]["paid_at"] = sandbox.now().into();
            sandbox.store.update(&payment).await?;
            mark_paid(sandbox, &mut invoice, Some(intent)).await
        }
        "requires_action" => {
            // An attempt was made: the bank wants the customer before it can go through.
            invoice["attempted"] = true.into();
            invoice["attempt_count"] = (invoice["attempt_count"].as_i64().unwrap_or_default() + 1).into();
            sandbox.store.update(&invoice).await?;
            events::record(sandbox, "invoice.payment_action_required", &invoice, None).await?;
            renewal_unpaid(sandbox, &invoice).await
        }
        "requires_payment_method" => payment_failed(sandbox, &mut invoice).await,
        _ => Ok(()),
    }
}

/// An attempt to pay `invoice` failed (declined, or no card to charge).
pub async fn payment_failed(sandbox: &Sandbox, invoice: &mut Value) -> Result<(), ApiError> {
    invoice["attempted"] = true.into();
    invoice["attempt_count"] = (invoice["attempt_count"].as_i64().unwrap_or_default() + 1).into();
    sandbox.store.update(invoice).await?;
    events::record(sandbox, "invoice.payment_failed", invoice, None).await?;
    renewal_unpaid(sandbox, invoice).await
}

/// A renewal invoice is not paid: the subscription falls `past_due` (a first invoice leaves it
/// `incomplete` instead).
async fn renewal_unpaid(sandbox: &Sandbox, invoice: &Value) -> Result<(), ApiError> {
    let Some(id) = invoice["subscription"].as_str().filter(|_| invoice["billing_reason"] == "subscription_cycle")
    else {
        return Ok(());
    };
    let mut subscription = sandbox.store.get("subscription", id, "subscription").await?;
    if status::subscription(&subscription) != Some(SubscriptionStatus::Active) {
        return Ok(());
    }
    status::set(&mut subscription, SubscriptionStatus::PastDue);
    sandbox.store.update(&subscription).await?;
    let previous =
        serde_json::Map::from_iter([("status".to_owned(), Value::from(SubscriptionStatus::Active.as_str()))]);
    events::record(sandbox, "customer.subscription.updated", &subscription, Some(previous)).await.map(|_| ())
}

/// Voids an open invoice (its subscription expired before it was paid).
pub async fn void(sandbox: &Sandbox, id: &str, at: i64) -> Result<(), ApiError> {
    let mut invoice = sandbox.store.get("invoice", id, "invoice").await?;
    if status::invoice(&invoice) != Some(InvoiceStatus::Open) {
        return Ok(());
    }
    status::set(&mut invoice, InvoiceStatus::Void);
    invoice["status_transitions"]["voided_at"] = at.into();
    invoice["amount_remaining"] = 0.into();
    sandbox.store.update(&invoice).await?;
    events::record(sandbox, "invoice.voided", &invoice, None).await.map(|_| ())
}

/// Drops `confirmation_secret` from every invoice in `object` unless an `expand[]` path asked
/// for it (Stripe sends it only then).
pub fn hide_confirmation_secrets(object: &mut Value, paths: &[String]) {
    if paths.iter().any(|p| p.ends_with("confirmation_secret")) {
        return;
    }
    match object {
        Value::Object(map) => {
            if map.get("object").and_then(Value::as_str) == Some("invoice") {
                map.remove("confirmation_secret");
            }
            map.values_mut().for_each(|v| hide_confirmation_secrets(v, paths));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| hide_confirmation_secrets(v, paths)),
        _ => {}
    }
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    retrieve_object(&sandbox, "invoice", &id, params).await
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let customer = params.string("customer")?;
    let subscription = params.string("subscription")?;
    let wanted = params.parsed::<InvoiceStatus>("status")?;
    let paths = params.expand()?;
    params.finish()?;
    list_page(&sandbox, "invoice", "/v1/invoices", &page, &paths, |i| {
        customer.as_deref().is_none_or(|c| i["customer"] == c)
            && subscription.as_deref().is_none_or(|s| i["subscription"] == s)
            && wanted.is_none_or(|w| status::invoice(i) == Some(w))
    })
    .await
}
