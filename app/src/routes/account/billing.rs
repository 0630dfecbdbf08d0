//! `/account/billing`: every subscription with its type, status, price, period end and next
//! invoice, read from Stripe; cancel at period end and resume. Forms work without JavaScript.

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
}

/// The signed-in customer's subscriptions, newest first, as Stripe holds them now.
#[server(endpoint = "my_subscriptions")]
pub async fn my_subscriptions() -> Result<Vec<SubscriptionRow>, AppError> {
    use billhook_core::billing;

    use crate::ssr::{fail, require_user, state};
    let result: Result<_, AppError> = async {
        let user = require_user()?;
        let state = state()?;
        let Some(stripe) = &state.billing.stripe else { return Err(AppError::PaymentsUnavailable) };
        let rows = billing::overview(&state.db, stripe, &state.billing.catalogue, user.id).await?;
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
            })
            .collect())
    }
    .await;
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
        let Some(stripe) = &state.billing.stripe else { return Err(AppError::PaymentsUnavailable) };
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
                view! {
                    <Table columns=&["Plan", "Status", "Price", "Current period ends", "Next invoice", ""] testid="subscriptions">
                        {list.into_iter().map(|row| view! { <SubscriptionLine row change /> }).collect_view()}
                    </Table>
                }.into_any()
            }}
        </Loaded>
    }
}

#[component]
fn SubscriptionLine(row: SubscriptionRow, change: ServerAction<CancelAtPeriodEnd>) -> impl IntoView {
    let renews = row.status.grants_access();
    let id = row.id.clone();
    let action = renews.then(move || {
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
            <td>{action}</td>
        </tr>
    }
}
