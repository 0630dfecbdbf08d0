//! The customer area: everything under `/account` needs a log-in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_location};

use super::errors::LoginRequired;
use crate::auth::use_current_user;

/// Guards `/account/...`: without a log-in, redirects to the log-in page (302 on the server).
#[component]
pub fn CustomerArea() -> impl IntoView {
    let user = use_current_user();
    let location = use_location();
    move || match user.get() {
        Some(_) => Outlet().into_any(),
        None => view! { <LoginRequired next=location.pathname.get_untracked() /> }.into_any(),
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Your account - Billhook" />
        <section class="card">
            <h1>"Your account"</h1>
            {move || user.get().map(|user| view! {
                <dl>
                    <dt>"E-mail"</dt>
                    <dd data-testid="account-email">{user.email}</dd>
                    <dt>"Role"</dt>
                    <dd>{user.role.label()}</dd>
                </dl>
            })}
            <p class="hint">"Subscriptions, payment methods, invoices and data exports will appear here."</p>
        </section>
    }
}
