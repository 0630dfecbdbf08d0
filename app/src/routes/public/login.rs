//! `/login`: the log-in form and the server function behind it (a plain form post works too).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    AppError,
    components::form::{ErrorNote, PasswordField, form_error, next_param},
};

/// Checks e-mail and password and signs the session in (with a fresh session id); then on to
/// `next`, if it is a path on this site.
#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: String) -> Result<(), AppError> {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

    use crate::{
        session::safe_next,
        ssr::{client_ip, finish_form, sign_in_session, state},
    };

    /// Escaped in a query value: all but unreserved characters and `/` (a path reads as itself).
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

    let result = async {
        let ip = client_ip()?;
        let user = state()?.accounts.log_in(&email, password, &ip).await?;
        sign_in_session(&user).await
    }
    .await;
    let failure_page = format!("/login?next={}", utf8_percent_encode(&next, QUERY_VALUE));
    finish_form(result, &safe_next(&next, "/account"), &failure_page)
}

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
