//! `/account/billing/result`: where the browser lands after paying (Stripe.js adds
//! `payment_intent` and `redirect_status`). The redirect only triggers a read: the page asks
//! Stripe for the subscription and shows what Stripe says - active; "payment received,
//! activating..." while Stripe has not caught up (it asks again every two seconds); or the
//! payment's failure in plain words with a way to try again.

use billhook_model::SubscriptionStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{AppError, components::data::Loaded};

/// What became of a subscription's first payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The subscription type's name (`Basic`).
    pub plan: String,
    pub status: SubscriptionStatus,
    /// Stripe's words for the last failed attempt to pay, if it failed.
    pub payment_error: Option<String>,
}

/// The signed-in customer's subscription `subscription` as Stripe holds it now (404 for anyone
/// else's), and why its payment `payment_intent` failed, if it did.
#[server(endpoint = "subscription_outcome")]
pub async fn subscription_outcome(subscription: String, payment_intent: Option<String>) -> Result<Outcome, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        let found = billing::own_subscription(&state.db, stripe, user.id, &subscription).await?;
        let status = billing::status_of(&found);
        let payment_error = match payment_intent.filter(|_| !status.grants_access()) {
            Some(intent) => billing::payment_failure(&state.db, stripe, user.id, &intent).await?,
            None => None,
        };
        let plan = billing::type_of(&state.billing.catalogue, &found)
            .map_or_else(|| "Your plan".to_owned(), |t| t.name.clone());
        Ok(Outcome { plan, status, payment_error })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn BillingResultPage() -> impl IntoView {
    let query = use_query_map();
    let read = move |name: &str| query.with(|q| q.get(name).map(|v| v.to_string()));
    let tick = RwSignal::new(0_u32);
    let outcome = Resource::new(
        move || (read("subscription").unwrap_or_default(), read("payment_intent"), tick.get()),
        |(subscription, intent, _)| subscription_outcome(subscription, intent),
    );
    let paid = move || read("redirect_status").as_deref() == Some("succeeded");
    view! {
        <Title text="Your payment - Billhook" />
        <h1>"Your payment"</h1>
        <Loaded resource=outcome let:outcome>
            <OutcomeView outcome paid=paid() tick />
        </Loaded>
    }
}

#[component]
fn OutcomeView(outcome: Outcome, paid: bool, tick: RwSignal<u32>) -> impl IntoView {
    let Outcome { plan, status, payment_error } = outcome;
    if status.grants_access() {
        return view! {
            <section class="card" data-testid="payment-result" data-status="active">
                <p class="success">{format!("{plan} is active. Thank you!")}</p>
                <p><a href="/account/billing">"See your billing"</a></p>
            </section>
        }
        .into_any();
    }
    if status == SubscriptionStatus::Incomplete && paid && payment_error.is_none() {
        // Stripe has the payment but not yet the subscription's new state: ask again shortly.
        if tick.get_untracked() < 15 {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(2));
        }
        return view! {
            <section class="card" data-testid="payment-result" data-status="activating">
                <p>{format!("Payment received, activating {plan}...")}</p>
            </section>
        }
        .into_any();
    }
    let reason = payment_error.unwrap_or_else(|| match status {
        SubscriptionStatus::IncompleteExpired => "The payment was not completed in time.".to_owned(),
        _ => "The payment was not completed.".to_owned(),
    });
    view! {
        <section class="card" data-testid="payment-result" data-status="failed">
            <p class="error" role="alert">{format!("{plan} is not active: {reason}")}</p>
            <p>"Nothing was charged. You can try again, with another card if you like."</p>
            <p><a href="/account/plans" rel="external" data-testid="try-again">"Try again"</a></p>
        </section>
    }
    .into_any()
}
