//! The operators' area: everything under `/admin` needs the admin role. The guard here decides
//! what is rendered; the server functions that return admin data check the role themselves.

mod customer;
mod outbox;
mod overview;
mod sandbox;
mod sandbox_activity;

use leptos::prelude::*;
use leptos_router::{
    MatchNestedRoutes, SsrMode,
    components::{ParentRoute, Route},
    path,
};

use crate::SessionUser;

/// `/admin`; a visitor is sent to log in, another account gets the 403 page. Rendered in
/// `SsrMode::Async`, so that those statuses are set before the first byte.
#[component(transparent)]
pub fn DashboardRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/admin") view=|| super::guarded(SessionUser::is_admin) ssr=SsrMode::Async>
            <Route path=path!("") view=overview::AdminOverview />
            <Route path=path!("customers/:id") view=customer::CustomerPage />
            <Route path=path!("outbox") view=outbox::OutboxPage />
        </ParentRoute>
    }
    .into_inner()
}
