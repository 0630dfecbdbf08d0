//! `/account/billing`: every subscription with its type, status, price, period end and next
//! invoice, read from Stripe; cancel at period end, resume, and a link to change to another
//! price of the type (its preview first). Forms work without JavaScript.

use billhook_model::{SubscriptionStatus, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
        status::StatusBadge,
        table::Table,
        time::Time,
    },
};

/// One subscription as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRow {
    pub id: String,
    pub plan: String,
    pub status: SubscriptionStatus,
    /// `5.00 EUR monthly`.
    pub price: String,
    pub current_period_end: Option<Timestamp>,
    pub cancel_at_period_end: bool,
    /// `5.00 EUR` and when, for a subscription that renews.
    pub next_invoice: Option<(String, Timestamp)>,
    /// Other prices of its type to move to: lookup key and `50.00 EUR yearly`.
    pub other_prices: Vec<(String, String)>,
}

/// Account `user_id`'s subscriptions, newest first, as Stripe holds them now (for the customer,
/// and read-only for operators).
#[cfg(feature = "ssr")]
pub(crate) async fn subscription_rows(
    state: &crate::ssr::AppState,
    user_id: i64,
) -> Result<Vec<SubscriptionRow>, AppError> {
    let stripe = state.billing.stripe()?;
    let rows = billhook_core::billing::overview(&state.db, stripe, &state.billing.catalogue, user_id).await?;
    Ok(rows
        .into_iter()
        .map(|s| SubscriptionRow {
            id: s.id,
            plan: s.plan,
            status: s.status,
            price: s.price,
            current_period_end: s.current_period_end.map(|at| Timestamp(at * 1000)),
            cancel_at_period_end: s.cancel_at_period_end,
            next_invoice: s.next_invoice.map(|(amount, at)| (amount, Timestamp(at * 1000))),
            other_prices: s.other_prices,
        })
        .collect())
}

/// The signed-in customer's subscriptions, newest first, as Stripe holds them now.
#[server(endpoint = "my_subscriptions")]
pub async fn my_subscriptions() -> Result<Vec<SubscriptionRow>, AppError> {
    use crate::ssr::{fail, require_user, state};
    let result = async { subscription_rows(&state()?, require_user()?.id).await }.await;
    result.or_else(fail)
}

/// Cancels the signed-in customer's subscription `subscription` at the end of its period
/// (`cancel` true) or keeps it going (`cancel` false). Another account's: 404, nothing changed.
#[server(endpoint = "cancel_at_period_end")]
pub async fn cancel_at_period_end(subscription: String, cancel: bool) -> Result<(), AppError> {
    use billhook_core::billing;

    use crate::ssr::{finish_form, require_user, state};
    let result = async {
        let user = require_user()?;
        let state = state()?;
        let stripe = state.billing.stripe()?;
        Ok(billing::set_cancel_at_period_end(&state.db, stripe, user.id, &subscription, cancel).await?)
    }
    .await;
    finish_form(result, "/account/billing", "/account/billing")
}

#[component]
pub fn BillingPage() -> impl IntoView {
    let change = ServerAction::<CancelAtPeriodEnd>::new();
    let rows = Resource::new(move || change.version().get(), |_| my_subscriptions());
    view! {
        <Title text="Billing - Billhook" />
        <h1>"Billing"</h1>
        <ErrorNote message=form_error(move || change.value().get()) />
        <Loaded resource=rows let:list>
            {if list.is_empty() {
                view! { <p>"No subscriptions yet. " <a href="/account/plans">"See the plans"</a></p> }.into_any()
            } else {
                view! { <SubscriptionTable list change=Some(change) /> }.into_any()
            }}
        </Loaded>
    }
}

/// The subscriptions; with `change`, each with its actions (operators see them without).
#[component]
pub(crate) fn SubscriptionTable(
    list: Vec<SubscriptionRow>,
    change: Option<ServerAction<CancelAtPeriodEnd>>,
) -> impl IntoView {
    view! {
        <Table columns=&["Plan", "Status", "Price", "Current period ends", "Next invoice", ""] testid="subscriptions">
            {list.into_iter().map(|row| view! { <SubscriptionLine row change /> }).collect_view()}
        </Table>
    }
}

#[component]
fn SubscriptionLine(row: SubscriptionRow, change: Option<ServerAction<CancelAtPeriodEnd>>) -> impl IntoView {
    let renews = row.status.grants_access() && change.is_some();
    let id = row.id.clone();
    let changes = row
        .other_prices
        .into_iter()
        .filter(|_| renews)
        .map(|(key, label)| {
            let href = format!("/account/billing/change?subscription={}&price={key}", row.id);
            view! { <a href=href class="button" data-testid=format!("change-{key}")>{format!("Switch to {label}")}</a> " " }
        })
        .collect_view();
    let action = change.filter(|_| renews).map(move |change| {
        let (cancel, label, testid) = if row.cancel_at_period_end {
            ("false", "Resume", "resume")
        } else {
            ("true", "Cancel at period end", "cancel")
        };
        view! {
            <ActionForm action=change attr:class="inline">
                <input type="hidden" name="subscription" value=id />
                <input type="hidden" name="cancel" value=cancel />
                <button type="submit" data-testid=testid>{label}</button>
            </ActionForm>
        }
    });
    view! {
        <tr data-testid=format!("subscription-{}", row.id)>
            <td>{row.plan}</td>
            <td>
                <StatusBadge status=row.status />
                {row.cancel_at_period_end.then(|| view! { <span class="hint" data-testid="ends">" ends at period end"</span> })}
            </td>
            <td>{row.price}</td>
            <td>{row.current_period_end.map(|at| view! { <Time at /> })}</td>
            <td>{row.next_invoice.map(|(amount, at)| view! { {amount} " on " <Time at /> })}</td>
            <td>{changes}{action}</td>
        </tr>
    }
}
