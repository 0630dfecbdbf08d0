//! `/account/invoices/{id}/pay`: completing the payment of an invoice that waits for its
//! customer - a renewal whose bank asks them to authenticate (reached from the e-mail and from
//! the notice on every account page), or a charge that failed and needs another card. What the
//! page shows is read from Stripe each time; coming back from the bank only triggers that read.

use billhook_model::InvoiceStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        payment::{AuthenticateButton, Checkout, PaymentForm},
        status::StatusBadge,
    },
};

/// What paying the invoice takes now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Nothing more.
    Done,
    /// The bank's check (3-D Secure).
    Authenticate(Checkout),
    /// Another card: the last attempt failed (Stripe's words for why, if any).
    PayWithCard { checkout: Checkout, last_error: Option<String> },
    /// The payment is on its way.
    Processing,
}

/// One invoice and what paying it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayableInvoice {
    pub id: String,
    pub number: Option<String>,
    pub status: Option<InvoiceStatus>,
    /// `5.00 EUR`.
    pub amount_due: String,
    pub step: Step,
}

/// The signed-in customer's invoice `id` as Stripe holds it now; anyone else's is 404.
#[server(endpoint = "invoice_to_pay")]
pub async fn invoice_to_pay(id: String) -> Result<PayableInvoice, AppError> {
    use billhook_core::billing::{self, PaymentStep};

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let found = billing::invoice_payment(&state.db, state.billing.stripe()?, user.id, &id).await?;
        let step = match found.step {
            PaymentStep::None => Step::Done,
            PaymentStep::Authenticate { client_secret } => Step::Authenticate(state.billing.checkout(client_secret)?),
            PaymentStep::PayWithCard { client_secret, last_error } => {
                Step::PayWithCard { checkout: state.billing.checkout(client_secret)?, last_error }
            }
            PaymentStep::Processing => Step::Processing,
        };
        Ok(PayableInvoice {
            id: found.id,
            number: found.number,
            status: found.status,
            amount_due: found.amount_due,
            step,
        })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn InvoicePayPage() -> impl IntoView {
    let params = use_params_map();
    let invoice = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), invoice_to_pay);
    view! {
        <Title text="Complete your payment - Billhook" />
        <h1>"Complete your payment"</h1>
        <Loaded resource=invoice let:invoice>
            <PayInvoice invoice />
        </Loaded>
        <p><a href="/account/invoices">"All invoices"</a></p>
    }
}

#[component]
fn PayInvoice(invoice: PayableInvoice) -> impl IntoView {
    let here = format!("/account/invoices/{}/pay", invoice.id);
    let what =
        format!("Invoice {} - {}", invoice.number.clone().unwrap_or_else(|| invoice.id.clone()), invoice.amount_due);
    let step = match invoice.step {
        Step::Done if invoice.status == Some(InvoiceStatus::Paid) => view! {
            <p class="success" data-testid="invoice-paid">"Paid. Thank you!"</p>
            <p><a href="/account/billing">"See your subscriptions"</a></p>
        }
        .into_any(),
        Step::Done => {
            view! { <p data-testid="invoice-closed">"There is nothing to pay on this invoice."</p> }.into_any()
        }
        Step::Authenticate(checkout) => view! {
            <p>"Your bank asks you to confirm this payment (3-D Secure)."</p>
            <AuthenticateButton checkout return_to=here />
        }
        .into_any(),
        Step::PayWithCard { checkout, last_error } => view! {
            <p class="error" role="alert" data-testid="last-payment-error">
                {last_error.unwrap_or_else(|| "The last attempt to pay did not go through.".to_owned())}
            </p>
            <p>"Pay with a card:"</p>
            <PaymentForm checkout return_to=here button="Pay now" />
        }
        .into_any(),
        Step::Processing => view! { <p data-testid="invoice-processing">"Your payment is on its way."</p> }.into_any(),
    };
    view! {
        <section class="card" data-testid="invoice-to-pay">
            <h2>{what}</h2>
            {invoice.status.map(|status| view! { <p><StatusBadge status /></p> })}
            {step}
        </section>
    }
}
