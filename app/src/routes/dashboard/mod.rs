//! The operators' area: everything under `/admin` needs an operator (`admin` acts, `viewer` only
//! looks: action buttons are hidden from viewers AND their server functions refuse them). The
//! guard here decides what is rendered; every server function checks the role itself.

mod audit;
mod bulk;
mod certificates;
mod customer;
mod exports;
mod job;
mod jobs;
mod jobs_bulk;
mod nodes;
mod outbox;
mod outbox_mail;
mod overview;
mod queue_row;
mod reconciliations;
mod refused;
mod sandbox;
mod sandbox_activity;
mod schedules;
mod webhook;
mod webhooks;
mod webhooks_bulk;

use leptos::prelude::*;
use leptos_router::{
    Lazy, SsrMode,
    components::{A, ParentRoute, Route},
    path,
};

use crate::{SessionUser, session::use_current_user};

lazy_pages!(
    AdminOverview => overview::AdminOverview,
    AdminCustomer => customer::CustomerPage,
    AdminOutbox => outbox::OutboxPage,
    AdminWebhooks => webhooks::WebhooksPage,
    AdminWebhooksBulk => webhooks_bulk::WebhooksBulkPage,
    AdminWebhook => webhook::WebhookPage,
    AdminRefused => refused::RefusedPage,
    AdminAudit => audit::AuditPage,
    AdminJobs => jobs::JobsPage,
    AdminJobsBulk => jobs_bulk::JobsBulkPage,
    AdminJob => job::JobPage,
    AdminSchedules => schedules::SchedulesPage,
    AdminNodes => nodes::NodesPage,
    AdminBulkList => bulk::BulkListPage,
    AdminBulk => bulk::BulkPage,
    AdminOutboxMail => outbox_mail::OutboxMailPage,
    AdminExports => exports::ExportsPage,
    AdminExport => exports::ExportPage,
    AdminCertificates => certificates::CertificatesPage,
    AdminCertificate => certificates::CertificatePage,
    AdminReconciliations => reconciliations::ReconciliationsPage,
    AdminReconciliation => reconciliations::ReconciliationPage,
);

/// `/admin`; a visitor is sent to log in, another account gets the 403 page. Rendered in
/// `SsrMode::Async`, so that those statuses are set before the first byte.
#[component(transparent)]
pub fn DashboardRoutes() -> impl leptos_router::MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/admin") view=|| view! { <AdminNav /> {super::guarded(SessionUser::is_operator)} } ssr=SsrMode::Async>
            <Route path=path!("") view={Lazy::<AdminOverview>::new()} />
            <Route path=path!("customers/:id") view={Lazy::<AdminCustomer>::new()} />
            <Route path=path!("outbox") view={Lazy::<AdminOutbox>::new()} />
            <Route path=path!("webhooks") view={Lazy::<AdminWebhooks>::new()} />
            <Route path=path!("webhooks/bulk") view={Lazy::<AdminWebhooksBulk>::new()} />
            <Route path=path!("webhooks/:id") view={Lazy::<AdminWebhook>::new()} />
            <Route path=path!("refused") view={Lazy::<AdminRefused>::new()} />
            <Route path=path!("audit") view={Lazy::<AdminAudit>::new()} />
            <Route path=path!("jobs") view={Lazy::<AdminJobs>::new()} />
            <Route path=path!("jobs/bulk") view={Lazy::<AdminJobsBulk>::new()} />
            <Route path=path!("jobs/:id") view={Lazy::<AdminJob>::new()} />
            <Route path=path!("schedules") view={Lazy::<AdminSchedules>::new()} />
            <Route path=path!("nodes") view={Lazy::<AdminNodes>::new()} />
            <Route path=path!("bulk") view={Lazy::<AdminBulkList>::new()} />
            <Route path=path!("bulk/:id") view={Lazy::<AdminBulk>::new()} />
            <Route path=path!("outbox/:id") view={Lazy::<AdminOutboxMail>::new()} />
            <Route path=path!("exports") view={Lazy::<AdminExports>::new()} />
            <Route path=path!("exports/:id") view={Lazy::<AdminExport>::new()} />
            <Route path=path!("certificates") view={Lazy::<AdminCertificates>::new()} />
            <Route path=path!("certificates/:id") view={Lazy::<AdminCertificate>::new()} />
            <Route path=path!("reconciliations") view={Lazy::<AdminReconciliations>::new()} />
            <Route path=path!("reconciliations/:id") view={Lazy::<AdminReconciliation>::new()} />
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
                    <A href="/admin/bulk">"Bulk"</A>
                    <A href="/admin/exports">"Exports"</A>
                    <A href="/admin/certificates">"Certificates"</A>
                    <A href="/admin/reconciliations">"Reconciliations"</A>
                    <A href="/admin/outbox">"Outbox"</A>
                    <A href="/admin/audit">"Audit"</A>
                </nav>
            }
        })
    }
}
