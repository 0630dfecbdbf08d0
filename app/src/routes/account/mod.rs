//! The customer area: everything under `/account` needs a log-in.

mod domains;
mod exports;
mod overview;

use leptos::prelude::*;
use leptos_router::{
    MatchNestedRoutes, SsrMode,
    components::{ParentRoute, Route},
    path,
};

/// `/account`; a visitor is sent to log in (302 on the server) and back. Rendered in
/// `SsrMode::Async`, so that the redirect's status is set before the first byte.
#[component(transparent)]
pub fn AccountRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/account") view=|| super::guarded(|_| true) ssr=SsrMode::Async>
            <Route path=path!("") view=overview::AccountPage />
        </ParentRoute>
    }
    .into_inner()
}
