//! The customer area: everything under `/account` needs a log-in.

mod billing;
mod billing_result;
mod domains;
mod exports;
mod invoices;
mod overview;
mod payment_method;
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
            <Route path=path!("payment-method") view=payment_method::PaymentMethodPage />
            <Route path=path!("invoices") view=invoices::InvoicesPage />
        </ParentRoute>
    }
    .into_inner()
}

/// The account's pages, for a signed-in visitor.
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
                </nav>
            }
        })
    }
}
