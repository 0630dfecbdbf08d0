//! `/account/plans`: every subscription type with its prices and what the customer holds of it;
//! subscribing opens the Payment Element for the new subscription's first invoice.

use billhook_model::{Interval, SubscriptionStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        payment::{Checkout, PaymentForm},
        status::StatusBadge,
    },
};

/// One price as the page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceOffer {
    pub lookup_key: String,
    pub interval: Interval,
    /// `5.00 EUR`.
    pub amount: String,
}

/// One subscription type, and the customer's standing with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOffer {
    pub key: String,
    pub name: String,
    pub description: String,
    /// The name of the type it needs, when the customer does not hold that one active.
    pub missing_requirement: Option<String>,
    pub prices: Vec<PriceOffer>,
    /// The customer's subscription of this type that still counts (not ended), if any.
    pub held: Option<SubscriptionStatus>,
}

/// The catalogue with what the signed-in customer holds, read from Stripe now.
#[server(endpoint = "plans")]
pub async fn plans() -> Result<Vec<PlanOffer>, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let catalogue = state.billing.catalogue.clone();
        let customer = billing::customer_of(&state.db, user.id).await.map_err(billing::BillingError::from)?;
        let held = match (customer, &state.billing.stripe) {
            (Some(customer), Some(stripe)) => billing::subscriptions_at_stripe(stripe, &customer).await?,
            _ => Vec::new(),
        };
        let standing = |key: &str| {
            let of_type = held.iter().filter(|s| billing::type_of(&catalogue, s).is_some_and(|t| t.key == key));
            // The one that counts: access first, then one awaiting payment.
            of_type
                .map(billing::status_of)
                .filter(|s| s.grants_access() || *s == SubscriptionStatus::Incomplete)
                .min_by_key(|s| if s.grants_access() { 0 } else { 1 })
        };
        Ok(catalogue
            .types
            .iter()
            .map(|kind| PlanOffer {
                key: kind.key.clone(),
                name: kind.name.clone(),
                description: kind.description.clone(),
                missing_requirement: kind
                    .requires
                    .as_deref()
                    .filter(|required| !standing(required).is_some_and(SubscriptionStatus::grants_access))
                    .map(|required| {
                        catalogue.subscription_type(required).map_or(required, |t| t.name.as_str()).to_owned()
                    }),
                prices: kind
                    .prices
                    .iter()
                    .map(|p| PriceOffer {
                        lookup_key: p.lookup_key.clone(),
                        interval: p.interval,
                        amount: billhook_model::format_amount(p.amount, &p.currency),
                    })
                    .collect(),
                held: standing(&kind.key),
            })
            .collect())
    }
    .await;
    result.or_else(fail)
}

/// A subscription waiting for its first payment, and what the browser pays it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedSubscription {
    pub subscription_id: String,
    pub checkout: Checkout,
}

/// Starts a subscription to the price `lookup_key` (or offers again the unpaid one at that price).
#[server(endpoint = "start_subscription")]
pub async fn start_subscription(lookup_key: String) -> Result<StartedSubscription, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        let who = billing::Customer { user_id: user.id, email: &user.email };
        let first = billing::subscribe(&state.db, stripe, &state.billing.catalogue, who, &lookup_key).await?;
        Ok(StartedSubscription {
            subscription_id: first.subscription_id,
            checkout: state.billing.checkout(first.client_secret)?,
        })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn PlansPage() -> impl IntoView {
    let start = ServerAction::<StartSubscription>::new();
    let offers = Resource::new(|| (), |()| plans());
    view! {
        <Title text="Plans - Billhook" />
        <h1>"Plans"</h1>
        {move || match start.value().get() {
            Some(Ok(started)) => view! { <PayFirstInvoice started /> }.into_any(),
            failed => view! {
                {failed.and_then(Result::err).map(|e| view! { <p class="error" role="alert" data-testid="plans-error">{e.to_string()}</p> })}
                <Loaded resource=offers let:list>
                    <div class="plans">
                        {list.into_iter().map(|offer| view! { <PlanCard offer start /> }).collect_view()}
                    </div>
                </Loaded>
            }.into_any(),
        }}
    }
}

#[component]
fn PlanCard(offer: PlanOffer, start: ServerAction<StartSubscription>) -> impl IntoView {
    let held = offer.held;
    let blocked = offer.missing_requirement.clone();
    view! {
        <section class="card plan" data-testid=format!("plan-{}", offer.key)>
            <h2>{offer.name.clone()}</h2>
            <p>{offer.description.clone()}</p>
            {held.map(|status| view! { <p>"Yours: " <StatusBadge status /></p> })}
            {blocked.clone().map(|required| view! { <p class="hint">{format!("Needs an active {required} subscription.")}</p> })}
            <ul class="prices">
                {offer.prices.into_iter().map(|price| {
                    let can_take = blocked.is_none() && !held.is_some_and(SubscriptionStatus::grants_access);
                    let key = price.lookup_key.clone();
                    view! {
                        <li>
                            <span>{format!("{} {}", price.amount, price.interval.adverb())}</span>
                            {can_take.then(|| view! {
                                <ActionForm action=start attr:class="inline">
                                    <input type="hidden" name="lookup_key" value=key.clone() />
                                    <button type="submit" data-testid=format!("subscribe-{key}") disabled=move || start.pending().get()>
                                        {if held == Some(SubscriptionStatus::Incomplete) { "Pay to start" } else { "Subscribe" }}
                                    </button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn PayFirstInvoice(started: StartedSubscription) -> impl IntoView {
    let return_to = format!("/account/billing/result?subscription={}", started.subscription_id);
    view! {
        <section class="card" data-testid="checkout">
            <h2>"Pay for your subscription"</h2>
            <p class="hint">"Your bank may ask you to confirm the payment (3-D Secure)."</p>
            <PaymentForm checkout=started.checkout return_to button="Pay and subscribe" />
            <p><a href="/account/plans" rel="external">"Back to the plans"</a></p>
        </section>
    }
}
