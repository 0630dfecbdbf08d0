//! The page frame: header with navigation for the customer and admin areas, main, footer; and
//! the log-out button it carries, with its server function.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{AppError, session::use_current_user, site::SandboxLabel};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = use_current_user();
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Billhook"</a>
            <SandboxLabel />
            <nav aria-label="Main">
                {move || match user.get() {
                    None => view! {
                        <A href="/login">"Log in"</A>
                        <A href="/signup">"Sign up"</A>
                    }.into_any(),
                    Some(user) => view! {
                        <A href="/account">"Account"</A>
                        {user.is_operator().then(|| view! { <A href="/admin">"Admin"</A> })}
                        <span class="who" data-testid="signed-in-as">{user.email.clone()}</span>
                        <LogOutButton />
                    }.into_any(),
                }}
            </nav>
        </header>
        <main>{children()}</main>
        <footer class="site-footer">"Billhook - billing that keeps its promises"</footer>
    }
}

/// Ends the session.
#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use crate::ssr::{finish_form, session};
    let result: Result<(), AppError> = async { Ok(session().await?.flush().await?) }.await;
    finish_form(result, "/", "/")
}

#[component]
fn LogOutButton() -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <ActionForm action=log_out attr:class="inline">
            <button type="submit" class="link-button">"Log out"</button>
        </ActionForm>
    }
}
