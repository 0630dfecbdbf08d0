//! The customer area: everything under `/account` needs a log-in.

pub(crate) mod billing;
mod billing_result;
mod domains;
mod exports;
mod invoice_pay;
pub(crate) mod invoices;
mod overview;
pub(crate) mod payment_method;
mod payments_waiting;
mod plan_change;
mod plans;

use leptos::prelude::*;
use leptos_router::{
    MatchNestedRoutes, SsrMode,
    components::{A, ParentRoute, Route},
    path,
};

use crate::session::use_current_user;

/// `/account`; a visitor is sent to log in (302 on the server) and back. Rendered in
/// `SsrMode::Async`, so that the redirect's status is set before the first byte.
#[component(transparent)]
pub fn AccountRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/account") view=|| view! { <AccountNav /> {super::guarded(|_| true)} } ssr=SsrMode::Async>
            <Route path=path!("") view=overview::AccountPage />
            <Route path=path!("plans") view=plans::PlansPage />
            <Route path=path!("billing") view=billing::BillingPage />
            <Route path=path!("billing/result") view=billing_result::BillingResultPage />
            <Route path=path!("billing/change") view=plan_change::PlanChangePage />
            <Route path=path!("payment-method") view=payment_method::PaymentMethodPage />
            <Route path=path!("invoices") view=invoices::InvoicesPage />
            <Route path=path!("invoices/:id/pay") view=invoice_pay::InvoicePayPage />
            <Route path=path!("domains") view=domains::DomainsPage />
        </ParentRoute>
    }
    .into_inner()
}

/// The account's pages, for a signed-in visitor, and the notice of payments waiting for them.
#[component]
fn AccountNav() -> impl IntoView {
    let user = use_current_user();
    move || {
        user.get().is_some().then(|| {
            view! {
                <nav class="account-nav" aria-label="Account">
                    <A href="/account" exact=true>"Overview"</A>
                    <A href="/account/plans">"Plans"</A>
                    <A href="/account/billing">"Billing"</A>
                    <A href="/account/payment-method">"Payment method"</A>
                    <A href="/account/invoices">"Invoices"</A>
                    <A href="/account/domains">"Domains"</A>
                </nav>
                <payments_waiting::PaymentsWaitingNotice />
            }
        })
    }
}
