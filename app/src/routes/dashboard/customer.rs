//! `/admin/customers/{id}`: one account's billing as the customer sees it - subscriptions,
//! invoices, card, custom domains - read from Stripe, for operators, read-only.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table},
    routes::account::{
        billing::{SubscriptionRow, SubscriptionTable},
        invoices::{InvoiceRow, InvoiceTable},
        payment_method::CardView,
    },
};

/// One account's billing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOfCustomer {
    pub email: String,
    /// The Stripe customer, once billing has made one.
    pub customer_id: Option<String>,
    pub subscriptions: Vec<SubscriptionRow>,
    pub invoices: Vec<InvoiceRow>,
    pub card: Option<CardView>,
    pub domains: Vec<String>,
}

/// Account `id`'s billing. Operators only.
#[server(endpoint = "admin_customer_billing")]
pub async fn customer_billing(id: i64) -> Result<BillingOfCustomer, AppError> {
    use crate::{
        routes::account::{billing::subscription_rows, invoices::invoice_rows},
        ssr::{fail, require_operator, state},
    };
    use billhook_core::{billing, custom_domains};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let state = state()?;
        let user = state.accounts.user_by_id(id).await?.ok_or(AppError::NotFound)?;
        let customer_id = billing::customer_of(&state.db, id).await.map_err(billing::BillingError::from)?;
        let card = billing::default_card(&state.db, state.billing.stripe()?, id).await?;
        Ok(BillingOfCustomer {
            email: user.email,
            customer_id,
            subscriptions: subscription_rows(&state, id).await?,
            invoices: invoice_rows(&state, id).await?,
            card: card.map(CardView::from),
            domains: custom_domains::list(&state.db, id).await?.into_iter().map(|d| d.hostname).collect(),
        })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let billing = Resource::new(
        move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or_default()),
        customer_billing,
    );
    view! {
        <Title text="Customer - Billhook" />
        <Loaded resource=billing let:billing>
            <h1 data-testid="customer-email">{billing.email}</h1>
            <p>"Stripe customer: " <code data-testid="customer-id">{billing.customer_id.unwrap_or_else(|| "none yet".into())}</code></p>
            <section class="card">
                <h2>"Subscriptions"</h2>
                {if billing.subscriptions.is_empty() {
                    view! { <p>"None."</p> }.into_any()
                } else {
                    view! { <SubscriptionTable list=billing.subscriptions change=None /> }.into_any()
                }}
            </section>
            <section class="card">
                <h2>"Invoices"</h2>
                <InvoiceTable list=billing.invoices payable=false />
            </section>
            <section class="card">
                <h2>"Card and domains"</h2>
                <Table columns=&["Card", "Custom domains"] testid="customer-extras">
                    <tr>
                        <td>{billing.card.map_or_else(|| "none".to_owned(), |c| format!("{} ending {} ({})", c.brand, c.last4, c.expires))}</td>
                        <td>{if billing.domains.is_empty() { "none".to_owned() } else { billing.domains.join(", ") }}</td>
                    </tr>
                </Table>
            </section>
        </Loaded>
        <p><a href="/admin">"Back to operations"</a></p>
    }
}
