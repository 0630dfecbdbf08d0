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
    Lazy, SsrMode,
    components::{A, ParentRoute, Route},
    path,
};

use crate::session::use_current_user;

lazy_pages!(
    AccountOverview => overview::AccountPage,
    Plans => plans::PlansPage,
    Billing => billing::BillingPage,
    BillingResult => billing_result::BillingResultPage,
    PlanChange => plan_change::PlanChangePage,
    PaymentMethod => payment_method::PaymentMethodPage,
    Invoices => invoices::InvoicesPage,
    InvoicePay => invoice_pay::InvoicePayPage,
    Domains => domains::DomainsPage,
);

/// `/account`; a visitor is sent to log in (302 on the server) and back. Rendered in
/// `SsrMode::Async`, so that the redirect's status is set before the first byte.
#[component(transparent)]
pub fn AccountRoutes() -> impl leptos_router::MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/account") view=|| view! { <AccountNav /> {super::guarded(|_| true)} } ssr=SsrMode::Async>
            <Route path=path!("") view={Lazy::<AccountOverview>::new()} />
            <Route path=path!("plans") view={Lazy::<Plans>::new()} />
            <Route path=path!("billing") view={Lazy::<Billing>::new()} />
            <Route path=path!("billing/result") view={Lazy::<BillingResult>::new()} />
            <Route path=path!("billing/change") view={Lazy::<PlanChange>::new()} />
            <Route path=path!("payment-method") view={Lazy::<PaymentMethod>::new()} />
            <Route path=path!("invoices") view={Lazy::<Invoices>::new()} />
            <Route path=path!("invoices/:id/pay") view={Lazy::<InvoicePay>::new()} />
            <Route path=path!("domains") view={Lazy::<Domains>::new()} />
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
