//! `/account/billing/change?subscription=...&price=...`: what moving a subscription to another
//! price of its type (monthly to yearly) costs - Stripe's preview of the invoice, prorations
//! included - and the button that makes the change at those amounts. Works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
        table::Table,
    },
};

/// A plan change as the customer reads it before confirming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePreview {
    pub subscription: String,
    pub price: String,
    /// What each line is for, and its amount.
    pub lines: Vec<(String, String)>,
    pub total: String,
    pub charged_now: bool,
    pub proration_date: i64,
}

/// Stripe's preview of moving the signed-in customer's subscription to price `price`.
#[server(endpoint = "plan_change_preview")]
pub async fn plan_change_preview(subscription: String, price: String) -> Result<ChangePreview, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        let preview =
            billing::preview_plan_change(&state.db, stripe, &state.billing.catalogue, user.id, &subscription, &price)
                .await?;
        Ok(ChangePreview {
            subscription: preview.subscription_id,
            price: preview.lookup_key,
            lines: preview.lines,
            total: preview.total,
            charged_now: preview.charged_now,
            proration_date: preview.proration_date,
        })
    }
    .await;
    result.or_else(fail)
}

/// Moves the signed-in customer's subscription to price `price`, at the preview's amounts.
#[server(endpoint = "change_plan")]
pub async fn change_plan(subscription: String, price: String, proration_date: i64) -> Result<(), AppError> {
    use billhook_core::billing;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    use crate::ssr::{finish_form, require_user, state};
    let back = format!(
        "/account/billing/change?subscription={}&price={}",
        utf8_percent_encode(&subscription, NON_ALPHANUMERIC),
        utf8_percent_encode(&price, NON_ALPHANUMERIC)
    );
    let result = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        let catalogue = &state.billing.catalogue;
        billing::change_plan(&state.db, stripe, catalogue, user.id, &subscription, &price, proration_date).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/account/billing", &back)
}

#[component]
pub fn PlanChangePage() -> impl IntoView {
    let query = use_query_map();
    let read = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let preview = Resource::new(move || (read("subscription"), read("price")), |(s, p)| plan_change_preview(s, p));
    let change = ServerAction::<ChangePlan>::new();
    view! {
        <Title text="Change plan - Billhook" />
        <h1>"Change plan"</h1>
        <ErrorNote message=form_error(move || change.value().get()) />
        <Loaded resource=preview let:preview>
            <PreviewView preview change />
        </Loaded>
        <p><a href="/account/billing">"Back to billing"</a></p>
    }
}

#[component]
fn PreviewView(preview: ChangePreview, change: ServerAction<ChangePlan>) -> impl IntoView {
    let when = if preview.charged_now {
        "You are charged this now, with the card on file:"
    } else {
        "This is added to your next invoice:"
    };
    view! {
        <section class="card" data-testid="plan-change-preview">
            <p>{when}</p>
            <Table columns=&["", "Amount"] testid="preview-lines">
                {preview.lines.into_iter().map(|(what, amount)| view! { <tr><td>{what}</td><td>{amount}</td></tr> }).collect_view()}
                <tr class="total"><th>"Total"</th><th data-testid="preview-total">{preview.total}</th></tr>
            </Table>
            <ActionForm action=change>
                <input type="hidden" name="subscription" value=preview.subscription />
                <input type="hidden" name="price" value=preview.price />
                <input type="hidden" name="proration_date" value=preview.proration_date />
                <button type="submit" data-testid="confirm-change" disabled=move || change.pending().get()>"Confirm the change"</button>
            </ActionForm>
        </section>
    }
}
