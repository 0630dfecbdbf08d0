use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{ErrorNote, PasswordField, form_error, next_param};
use crate::auth::LogIn;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = form_error(move || action.value().get());
    let next = next_param();
    view! {
        <Title text="Log in - Billhook" />
        <section class="card narrow">
            <h1>"Log in"</h1>
            <ErrorNote message=error />
            <ActionForm action=action>
                <input type="hidden" name="next" value=next />
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="username" required />
                <PasswordField autocomplete="current-password" />
                <button type="submit" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <p>"No account yet? " <a href="/signup">"Sign up"</a></p>
        </section>
    }
}
