//! The account's invoices, as Stripe lists them.

use billhook_model::{InvoiceStatus, format_amount};
use stripe_billing::invoice::ListInvoice;

use super::{BillingError, customer_of};
use crate::stripe_api::{StripeApi, StripeApiError};

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
    db: &crate::db::Db,
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
