//! `/signup`: the sign-up form and the server function behind it (a plain form post works too).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    AppError,
    components::form::{ErrorNote, PasswordField, form_error, next_param},
};

/// Creates a customer account and signs it in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::{
        session::safe_next,
        ssr::{client_ip, finish_form, sign_in_session, state},
    };
    let result = async {
        let user = state()?.accounts.sign_up(&email, password, &client_ip()?).await?;
        sign_in_session(&user).await
    }
    .await;
    finish_form(result, &safe_next(&next, "/account"), "/signup")
}

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
