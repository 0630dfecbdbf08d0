//! Billhook's Leptos application: pages, layout and server functions. Compiled twice: with `ssr`
//! for the server (server functions run there and call `billhook-core`) and with `hydrate` for
//! the browser's WASM (server functions become HTTP calls; no server-only crate is compiled).
//!
//! - [`routes`]: the app by URL area (`public`, `account`, `dashboard`); each area declares its
//!   routes and guard, each page file holds its sections and the server functions they call.
//! - [`components`]: what pages share - the frame, forms, error pages, the section loader,
//!   tables, status badges, times.
//! - [`error`]: [`AppError`] and the error policy. [`session`]: who is signed in. [`site`]:
//!   what every page says about this server (the sandbox label).
//! - `ssr` (server only): the state and the request helpers server functions use.

pub mod components;
pub mod error;
pub mod routes;
pub mod session;
pub mod site;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy,
    components::{Route, Router, Routes},
    path,
};

use components::{errors::NotFound, layout::Layout};
pub use error::AppError;
use routes::{
    account::AccountRoutes,
    dashboard::DashboardRoutes,
    public::{Home, Login, Signup},
};
pub use session::{CurrentUser, SessionUser};
#[cfg(feature = "ssr")]
pub use ssr::{AppState, Billing, Operations, StripeJs, Webhooks};

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
    session::provide_current_user();
    site::provide_site_info();
    // Log-in and log-out change who is signed in: follow their redirects with a full page load, so
    // every part of the page (and the session-derived state) is rendered afresh by the server.
    #[cfg(feature = "hydrate")]
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = window().location().set_href(location);
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/billhook.css" />
        <Title text="Billhook" />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view={Lazy::<Home>::new()} />
                    <Route path=path!("/login") view={Lazy::<Login>::new()} />
                    <Route path=path!("/signup") view={Lazy::<Signup>::new()} />
                    <AccountRoutes />
                    <DashboardRoutes />
                </Routes>
            </Layout>
        </Router>
    }
}
