//! The notice on every account page while an invoice waits for its customer (a renewal whose
//! bank asks them to authenticate, a declined charge), with the way to complete it. Read from
//! the mirror, so it costs no call to Stripe.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// An invoice waiting for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub id: String,
    pub number: Option<String>,
    /// `5.00 EUR`.
    pub amount_due: String,
}

/// The signed-in customer's invoices that wait for them.
#[server(endpoint = "payments_waiting")]
pub async fn payments_waiting() -> Result<Vec<Waiting>, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let waiting = billing::invoices_waiting(&state()?.db, user.id).await?;
        Ok(waiting.into_iter().map(|w| Waiting { id: w.id, number: w.number, amount_due: w.amount_due }).collect())
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn PaymentsWaitingNotice() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    // Asked again on every account page the customer opens.
    let waiting = Resource::new(move || location.pathname.get(), |_| payments_waiting());
    view! {
        <Transition>
            {move || Suspend::new(async move {
                let list = waiting.await.unwrap_or_default();
                list.into_iter().map(|invoice| {
                    let href = format!("/account/invoices/{}/pay", invoice.id);
                    let name = invoice.number.unwrap_or(invoice.id);
                    view! {
                        <p class="notice" role="status" data-testid="payment-waiting">
                            {format!("Your payment of {} (invoice {name}) needs you. ", invoice.amount_due)}
                            <a href=href data-testid="complete-payment">"Complete your payment"</a>
                        </p>
                    }
                }).collect_view()
            })}
        </Transition>
    }
}
