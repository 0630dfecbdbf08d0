//! The account's invoices, as Stripe lists them; the ones that wait for the customer (a renewal
//! whose bank asks them to authenticate, a declined charge) and what paying one takes.

use billhook_model::{InvoiceStatus, format_amount};
use stripe_billing::invoice::{ListInvoice, RetrieveInvoice};

use super::{BillingError, customer_of};
use crate::{
    db::Db,
    on_db,
    stripe_api::{StripeApi, StripeApiError},
};

/// One invoice as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceSummary {
    pub id: String,
    pub number: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// `5.00 EUR`.
    pub total: String,
    pub status: Option<InvoiceStatus>,
    /// Stripe's page for the invoice (pay it, download the PDF).
    pub hosted_invoice_url: Option<String>,
}

/// The newest `limit` (1-100) invoices of account `user_id`, newest first.
pub async fn invoices(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    limit: i64,
) -> Result<Vec<InvoiceSummary>, BillingError> {
    let Some(customer) = customer_of(db, user_id).await? else { return Ok(Vec::new()) };
    let list = ListInvoice::new()
        .customer(customer.as_str())
        .limit(limit.clamp(1, 100))
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    Ok(list
        .data
        .into_iter()
        .filter_map(|invoice| {
            Some(InvoiceSummary {
                id: invoice.id?.as_str().to_owned(),
                number: invoice.number,
                created: invoice.created,
                total: format_amount(invoice.total, &invoice.currency.to_string()),
                status: invoice.status.and_then(|s| InvoiceStatus::parse(s.as_str()).ok()),
                hosted_invoice_url: invoice.hosted_invoice_url,
            })
        })
        .collect())
}

/// An open invoice that waits for its customer: a renewal or a change whose charge needs them
/// (to authenticate, or another card), as the mirror holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingInvoice {
    pub id: String,
    pub number: Option<String>,
    /// `5.00 EUR`.
    pub amount_due: String,
}

/// The invoices of account `user_id` that wait for it, oldest first, from the mirror (so that
/// every account page can ask cheaply). The first invoice of a subscription is not one of them:
/// its customer pays it on the page that started it.
pub async fn invoices_waiting(db: &Db, user_id: i64) -> Result<Vec<WaitingInvoice>, BillingError> {
    let Some(customer) = customer_of(db, user_id).await? else { return Ok(Vec::new()) };
    let open: Vec<(String, String)> = on_db!(db, pool => {
        sqlx::query_as("SELECT id, object FROM stripe_invoices WHERE customer_id = $1 AND status = 'open' ORDER BY event_created, id")
            .bind(&customer)
            .fetch_all(pool)
            .await
    })?;
    Ok(open
        .into_iter()
        .filter_map(|(id, object)| {
            let invoice: serde_json::Value = serde_json::from_str(&object).ok()?;
            let waits = invoice["attempted"] == true && invoice["billing_reason"] != "subscription_create";
            waits.then(|| WaitingInvoice {
                id,
                number: invoice["number"].as_str().map(str::to_owned),
                amount_due: format_amount(
                    invoice["amount_remaining"].as_i64().unwrap_or_default(),
                    invoice["currency"].as_str().unwrap_or_default(),
                ),
            })
        })
        .collect())
}

/// What paying an invoice takes now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStep {
    /// Nothing: paid, void, or written off.
    None,
    /// The bank asks the customer to authenticate the charge (3-D Secure): confirm the
    /// PaymentIntent's next action with this client secret.
    Authenticate { client_secret: String },
    /// The charge failed: pay with a card, through the PaymentIntent with this client secret.
    PayWithCard { client_secret: String, last_error: Option<String> },
    /// The payment is on its way.
    Processing,
}

/// One invoice and what paying it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicePayment {
    pub id: String,
    pub number: Option<String>,
    pub status: Option<InvoiceStatus>,
    /// `5.00 EUR`.
    pub amount_due: String,
    pub step: PaymentStep,
}

/// Invoice `id` of account `user_id` as Stripe holds it now (stored in the mirror too, so the
/// account pages' notice follows at once), with what paying it takes. Anyone else's: NotFound.
pub async fn invoice_payment(
    db: &Db,
    stripe: &StripeApi,
    user_id: i64,
    id: &str,
) -> Result<InvoicePayment, BillingError> {
    let customer = customer_of(db, user_id).await?.ok_or(BillingError::NotFound)?;
    if !id.starts_with("in_") {
        return Err(BillingError::NotFound);
    }
    let read_at = crate::clock::now_ms().div_euclid(1000);
    let raw = match stripe.retrieve("invoices", id).await {
        Err(StripeApiError::Api { status: 404, .. }) => return Err(BillingError::NotFound),
        other => other?,
    };
    if raw["customer"].as_str() != Some(customer.as_str()) {
        return Err(BillingError::NotFound);
    }
    crate::events::store_read(db, crate::events::MirroredKind::Invoice, &raw, read_at)
        .await
        .map_err(|e| BillingError::Unexpected(format!("storing what Stripe said: {e}")))?;
    let status = raw["status"].as_str().and_then(|s| InvoiceStatus::parse(s).ok());
    let step = if status == Some(InvoiceStatus::Open) { payment_step(stripe, id).await? } else { PaymentStep::None };
    Ok(InvoicePayment {
        id: id.to_owned(),
        number: raw["number"].as_str().map(str::to_owned),
        status,
        amount_due: format_amount(
            raw["amount_remaining"].as_i64().unwrap_or_default(),
            raw["currency"].as_str().unwrap_or_default(),
        ),
        step,
    })
}

/// Where open invoice `id`'s PaymentIntent stands (its secret is `confirmation_secret`).
async fn payment_step(stripe: &StripeApi, id: &str) -> Result<PaymentStep, BillingError> {
    let invoice = RetrieveInvoice::new(id)
        .expand(vec!["confirmation_secret".to_owned()])
        .send(stripe.client())
        .await
        .map_err(StripeApiError::from)?;
    let Some(secret) = invoice.confirmation_secret.map(|c| c.client_secret) else {
        return Err(BillingError::Unexpected(format!("open invoice {id} has no confirmation secret")));
    };
    let intent_id = secret.split("_secret_").next().unwrap_or_default();
    let intent = stripe.retrieve("payment_intents", intent_id).await?;
    Ok(match intent["status"].as_str().unwrap_or_default() {
        "requires_action" | "requires_confirmation" => PaymentStep::Authenticate { client_secret: secret },
        "processing" => PaymentStep::Processing,
        "succeeded" | "canceled" => PaymentStep::None,
        _ => PaymentStep::PayWithCard {
            client_secret: secret,
            last_error: intent.pointer("/last_payment_error/message").and_then(|m| m.as_str()).map(str::to_owned),
        },
    })
}
