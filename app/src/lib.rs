//! Billhook's Leptos application: pages, layout and server functions. Compiled twice: with `ssr`
//! for the server (server functions run there and call `billhook-core`) and with `hydrate` for
//! the browser's WASM (server functions become HTTP calls; no server-only crate is compiled).

pub mod auth;
pub mod domains;
pub mod error;
pub mod exports;
mod layout;
mod pages;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

pub use auth::{CurrentUser, Role, SessionUser};
pub use error::AppError;
#[cfg(feature = "ssr")]
pub use state::AppState;

/// The HTML document around the app (server side only renders it).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::provide_current_user();
    // Log-in and log-out change who is signed in: follow their redirects with a full page load, so
    // every part of the page (and the session-derived state) is rendered afresh by the server.
    #[cfg(feature = "hydrate")]
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = window().location().set_href(location);
    });

    // Marks the page once the WASM has taken over (end-to-end tests wait for it).
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/billhook.css" />
        <Title text="Billhook" />
        <Router>
            <layout::Layout>
                <Routes fallback=pages::errors::NotFound>
                    <Route path=path!("/") view=pages::home::HomePage />
                    <Route path=path!("/login") view=pages::login::LoginPage />
                    <Route path=path!("/signup") view=pages::signup::SignupPage />
                    <ParentRoute path=path!("/account") view=pages::account::CustomerArea ssr=SsrMode::Async>
                        <Route path=path!("") view=pages::account::AccountPage />
                    </ParentRoute>
                    <ParentRoute path=path!("/admin") view=pages::admin::AdminArea ssr=SsrMode::Async>
                        <Route path=path!("") view=pages::admin::AdminOverview />
                    </ParentRoute>
                </Routes>
            </layout::Layout>
        </Router>
    }
}
