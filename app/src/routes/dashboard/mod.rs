//! The operators' area: everything under `/admin` needs an operator (`admin` acts, `viewer` only
//! looks: action buttons are hidden from viewers AND their server functions refuse them). The
//! guard here decides what is rendered; every server function checks the role itself.

mod audit;
mod customer;
mod job;
mod jobs;
mod jobs_bulk;
mod nodes;
mod outbox;
mod overview;
mod refused;
mod sandbox;
mod sandbox_activity;
mod schedules;
mod webhook;
mod webhooks;

use leptos::prelude::*;
use leptos_router::{
    MatchNestedRoutes, SsrMode,
    components::{A, ParentRoute, Route},
    path,
};

use crate::{SessionUser, session::use_current_user};

/// `/admin`; a visitor is sent to log in, another account gets the 403 page. Rendered in
/// `SsrMode::Async`, so that those statuses are set before the first byte.
#[component(transparent)]
pub fn DashboardRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/admin") view=|| view! { <AdminNav /> {super::guarded(SessionUser::is_operator)} } ssr=SsrMode::Async>
            <Route path=path!("") view=overview::AdminOverview />
            <Route path=path!("customers/:id") view=customer::CustomerPage />
            <Route path=path!("outbox") view=outbox::OutboxPage />
            <Route path=path!("webhooks") view=webhooks::WebhooksPage />
            <Route path=path!("webhooks/:id") view=webhook::WebhookPage />
            <Route path=path!("refused") view=refused::RefusedPage />
            <Route path=path!("audit") view=audit::AuditPage />
            <Route path=path!("jobs") view=jobs::JobsPage />
            <Route path=path!("jobs/bulk") view=jobs_bulk::JobsBulkPage />
            <Route path=path!("jobs/:id") view=job::JobPage />
            <Route path=path!("schedules") view=schedules::SchedulesPage />
            <Route path=path!("nodes") view=nodes::NodesPage />
        </ParentRoute>
    }
    .into_inner()
}

/// The operators' pages, for a signed-in operator.
#[component]
fn AdminNav() -> impl IntoView {
    let user = use_current_user();
    move || {
        user.get().is_some_and(|u| u.is_operator()).then(|| {
            view! {
                <nav class="account-nav" aria-label="Operations">
                    <A href="/admin" exact=true>"Overview"</A>
                    <A href="/admin/webhooks">"Webhooks"</A>
                    <A href="/admin/refused">"Refused"</A>
                    <A href="/admin/jobs">"Jobs"</A>
                    <A href="/admin/schedules">"Schedules"</A>
                    <A href="/admin/nodes">"Nodes"</A>
                    <A href="/admin/outbox">"Outbox"</A>
                    <A href="/admin/audit">"Audit"</A>
                </nav>
            }
        })
    }
}
