//! `/account/payment-method`: the saved card (brand, last 4, expiry) and replacing it with a
//! SetupIntent confirmed in the browser. When Stripe.js comes back (`setup_intent=...`), the page
//! asks the server to read that SetupIntent from Stripe; once Stripe says it succeeded, the card
//! becomes the default for the customer and their subscriptions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        payment::{Checkout, PaymentForm},
    },
};

/// A card as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardView {
    pub brand: String,
    pub last4: String,
    /// `12/2034`.
    pub expires: String,
}

#[cfg(feature = "ssr")]
impl From<billhook_core::billing::SavedCard> for CardView {
    fn from(card: billhook_core::billing::SavedCard) -> Self {
        Self { brand: card.brand, last4: card.last4, expires: format!("{:02}/{}", card.exp_month, card.exp_year) }
    }
}

/// The signed-in customer's default card. With `setup_intent` (the browser is back from saving
/// a new card), that SetupIntent is read from Stripe first and, if it succeeded, its card made
/// the default.
#[server(endpoint = "my_card")]
pub async fn my_card(setup_intent: Option<String>) -> Result<Option<CardView>, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        if let Some(intent) = setup_intent {
            billing::finish_card_replacement(&state.db, stripe, user.id, &intent).await?;
        }
        Ok(billing::default_card(&state.db, stripe, user.id).await?.map(CardView::from))
    }
    .await;
    result.or_else(fail)
}

/// A SetupIntent for a new card, and what the browser confirms it with.
#[server(endpoint = "start_card_replacement")]
pub async fn start_card_replacement() -> Result<Checkout, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        let client_secret = billing::start_card_replacement(&state.db, stripe, user.id, &user.email).await?;
        state.billing.checkout(client_secret)
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn PaymentMethodPage() -> impl IntoView {
    let query = use_query_map();
    let returned = move || query.with(|q| q.get("setup_intent").map(|v| v.to_string()));
    let card = Resource::new(returned, my_card);
    let replace = ServerAction::<StartCardReplacement>::new();
    view! {
        <Title text="Payment method - Billhook" />
        <h1>"Payment method"</h1>
        <section class="card">
            <Loaded resource=card let:card>
                {match card {
                    Some(card) => view! {
                        <p data-testid="saved-card">
                            {format!("{} ending in {}, expires {}", card.brand, card.last4, card.expires)}
                        </p>
                    }.into_any(),
                    None => view! { <p data-testid="saved-card">"No card saved yet."</p> }.into_any(),
                }}
            </Loaded>
            {move || match replace.value().get() {
                Some(Ok(checkout)) => view! {
                    <p class="hint">"The new card is used for your next payments and renewals."</p>
                    <PaymentForm checkout return_to="/account/payment-method".to_owned() button="Save card" />
                }.into_any(),
                failed => view! {
                    {failed.and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
                    <ActionForm action=replace>
                        <button type="submit" data-testid="replace-card">"Replace card"</button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}
