//! `/account/invoices`: the customer's invoices with date, number, amount, status and Stripe's
//! page for each, read from Stripe.

use billhook_model::{InvoiceStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, status::StatusBadge, table::Table, time::Time},
};

/// One invoice as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub id: String,
    pub number: Option<String>,
    pub date: Timestamp,
    pub total: String,
    pub status: Option<InvoiceStatus>,
    pub hosted_invoice_url: Option<String>,
}

/// Account `user_id`'s 100 newest invoices, newest first (for the customer, and for operators).
#[cfg(feature = "ssr")]
pub(crate) async fn invoice_rows(state: &crate::ssr::AppState, user_id: i64) -> Result<Vec<InvoiceRow>, AppError> {
    let invoices = billhook_core::billing::invoices(&state.db, state.billing.stripe()?, user_id, 100).await?;
    Ok(invoices
        .into_iter()
        .map(|i| InvoiceRow {
            id: i.id,
            number: i.number,
            date: Timestamp(i.created * 1000),
            total: i.total,
            status: i.status,
            hosted_invoice_url: i.hosted_invoice_url,
        })
        .collect())
}

/// The signed-in customer's 100 newest invoices, newest first.
#[server(endpoint = "my_invoices")]
pub async fn my_invoices() -> Result<Vec<InvoiceRow>, AppError> {
    use crate::ssr::{fail, require_user, state};
    let result = async { invoice_rows(&state()?, require_user()?.id).await }.await;
    result.or_else(fail)
}

#[component]
pub fn InvoicesPage() -> impl IntoView {
    let invoices = Resource::new(|| (), |()| my_invoices());
    view! {
        <Title text="Invoices - Billhook" />
        <h1>"Invoices"</h1>
        <Loaded resource=invoices let:list>
            <InvoiceTable list payable=true />
        </Loaded>
    }
}

/// The invoices; with `payable`, an open one links to the page that completes its payment.
#[component]
pub(crate) fn InvoiceTable(list: Vec<InvoiceRow>, payable: bool) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>"No invoices yet."</p> }.into_any();
    }
    view! {
        <Table columns=&["Date", "Number", "Amount", "Status", ""] testid="invoices">
            {list.into_iter().map(|invoice| {
                let pay = (payable && invoice.status == Some(InvoiceStatus::Open)).then(|| view! {
                    " " <a href=format!("/account/invoices/{}/pay", invoice.id) data-testid="pay-invoice">"Pay"</a>
                });
                view! {
                    <tr data-testid=format!("invoice-{}", invoice.id)>
                        <td><Time at=invoice.date /></td>
                        <td>{invoice.number.unwrap_or_default()}</td>
                        <td>{invoice.total}</td>
                        <td>{invoice.status.map(|status| view! { <StatusBadge status /> })}</td>
                        <td>
                            {invoice.hosted_invoice_url.map(|url| view! {
                                <a href=url rel="external noopener" target="_blank">"View"</a>
                            })}
                            {pay}
                        </td>
                    </tr>
                }
            }).collect_view()}
        </Table>
    }
    .into_any()
}
