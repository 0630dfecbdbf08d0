use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{ErrorNote, PasswordField, form_error, next_param};
use crate::auth::SignUp;

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = form_error(move || action.value().get());
    let next = next_param();
    view! {
        <Title text="Sign up - Billhook" />
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <ErrorNote message=error />
            <ActionForm action=action>
                <input type="hidden" name="next" value=next />
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="email" required />
                <PasswordField autocomplete="new-password" />
                <p class="hint">"At least 8 characters."</p>
                <button type="submit" disabled=move || action.pending().get()>"Sign up"</button>
            </ActionForm>
            <p>"Already have an account? " <a href="/login">"Log in"</a></p>
        </section>
    }
}
