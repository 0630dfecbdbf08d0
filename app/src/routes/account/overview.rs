//! `/account`: who you are, then the account's sections.

use leptos::prelude::*;
use leptos_meta::Title;

use super::exports::DataExports;
use crate::session::use_current_user;

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
                    <dd>{user.role.as_str()}</dd>
                </dl>
            })}
            <p>
                <a href="/account/plans">"Plans"</a>" to subscribe; "
                <a href="/account/billing">"billing"</a>" for your subscriptions; "
                <a href="/account/domains">"custom domains"</a>" with the SSL add-on."
            </p>
        </section>
        <DataExports />
    }
}
