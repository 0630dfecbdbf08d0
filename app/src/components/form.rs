//! Pieces shared by the forms: the error note, the password field, and the query parameters a
//! form page reads.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::AppError;

/// The message to show above a form: the last fetch call's error (JavaScript on) or the error
/// whose `code` a plain form post was sent back with (JavaScript off; see `ssr::finish_form`).
pub fn form_error(last: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || match last() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(())) => None,
        None => query.read().get("error").map(|code| AppError::from_code(&code).to_string()),
    })
}

/// The `next` query parameter (where to go after the form), if any.
pub fn next_param() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get("next").unwrap_or_default())
}

#[component]
pub fn ErrorNote(message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="error" role="alert" data-testid="form-error">{move || message.get()}</p>
        </Show>
    }
}

/// A password input with a show/hide toggle (a control that only works once hydrated).
#[component]
pub fn PasswordField(#[prop(into)] autocomplete: String) -> impl IntoView {
    let visible = RwSignal::new(false);
    view! {
        <label for="password">"Password"</label>
        <div class="password-field">
            <input
                id="password"
                name="password"
                type=move || if visible.get() { "text" } else { "password" }
                autocomplete=autocomplete
                required
                minlength="8"
            />
            <button
                type="button"
                class="toggle"
                data-testid="toggle-password"
                aria-pressed=move || visible.get().to_string()
                on:click=move |_| visible.update(|v| *v = !*v)
            >
                {move || if visible.get() { "Hide" } else { "Show" }}
            </button>
        </div>
    }
}
