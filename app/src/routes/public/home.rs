//! The start page.

use leptos::prelude::*;

use crate::session::use_current_user;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <section class="hero">
            <h1>"Subscriptions that survive the real world"</h1>
            <p>
                "Billhook takes your customers' payments with Strong Customer Authentication, records "
                "every Stripe webhook before it answers, and finishes every job even when a node dies."
            </p>
            {move || match user.get() {
                Some(_) => view! { <a class="button" href="/account">"Go to your account"</a> }.into_any(),
                None => view! {
                    <a class="button" href="/signup">"Create an account"</a>
                    " "
                    <a class="button secondary" href="/login">"Log in"</a>
                }.into_any(),
            }}
        </section>
    }
}
