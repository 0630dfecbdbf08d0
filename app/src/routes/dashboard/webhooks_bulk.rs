//! `/admin/webhooks/bulk?event_type=...&status=...&object_id=...&from=...&to=...`: "process
//! again" for every stored event the filter matches (a fix deployed for a whole type of event, a
//! failure understood), as one bulk operation: the dry run, the confirmation, then the
//! operation's progress page. Handlers are idempotent and out-of-order safe, so events already
//! processed come to no harm. Admins only; works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::webhooks::EventQuery;
use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
    },
};

/// What the confirmation says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBulkPlan {
    pub query: EventQuery,
    /// `status=failed type=invoice.paid`.
    pub filter: String,
    pub count: i64,
}

#[cfg(feature = "ssr")]
fn process_again(query: &EventQuery) -> Result<billhook_core::dashboard::bulk::BulkAction, AppError> {
    Ok(billhook_core::dashboard::bulk::BulkAction::ProcessEventsAgain(super::webhooks::event_filter(query)?))
}

/// How many events "process again" would queue among those the filter matches. Admins only.
#[server(endpoint = "admin_webhooks_dry_run")]
pub async fn events_dry_run(
    #[server(default)] event_type: String,
    #[server(default)] status: String,
    #[server(default)] object_id: String,
    #[server(default)] event_id: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<EventBulkPlan, AppError> {
    use crate::ssr::{fail, require_admin, state};
    let result: Result<_, AppError> = async {
        require_admin()?;
        let query = EventQuery { event_type, status, object_id, event_id, from, to, before: String::new() };
        let bulk = process_again(&query)?;
        let count = bulk.dry_run(&state()?.db).await?;
        Ok(EventBulkPlan { filter: bulk.filter_text(), query, count })
    }
    .await;
    result.or_else(fail)
}

/// Starts processing again every event the filter matches (`expected`: the dry-run count the
/// admin confirmed), then on to the operation's progress page. Admins only; audited when it ends.
#[server(endpoint = "admin_webhooks_bulk")]
pub async fn events_bulk(
    #[server(default)] event_type: String,
    #[server(default)] status: String,
    #[server(default)] object_id: String,
    #[server(default)] event_id: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] expected: i64,
) -> Result<(), AppError> {
    use crate::ssr::{finish_form, require_admin, state};
    let query = EventQuery { event_type, status, object_id, event_id, from, to, before: String::new() };
    let back = format!("/admin/webhooks/bulk?{}", super::webhooks::filter_string(&query));
    let started = async {
        let actor = require_admin()?;
        let bulk = process_again(&query)?;
        Ok(billhook_core::dashboard::bulk::start(&state()?.db, &actor, &bulk, expected).await?)
    }
    .await;
    let progress = started.as_ref().map(|id| format!("/admin/bulk/{id}")).unwrap_or_default();
    finish_form(started.map(drop), &progress, &back)
}

#[component]
pub fn WebhooksBulkPage() -> impl IntoView {
    let params = use_query_map();
    let get = move |name: &'static str| params.with(|q| q.get(name).unwrap_or_default());
    let run = ServerAction::<EventsBulk>::new();
    let plan = Resource::new(
        move || (get("event_type"), get("status"), get("object_id"), get("event_id"), get("from"), get("to")),
        |(event_type, status, object_id, event_id, from, to)| {
            events_dry_run(event_type, status, object_id, event_id, from, to)
        },
    );
    view! {
        <Title text="Process events again - Billhook" />
        <h1>"Process every matching event again"</h1>
        <ErrorNote message=form_error(move || run.value().get()) />
        <Loaded resource=plan let:plan>
            <section class="card" data-testid="dry-run">
                <p data-testid="dry-run-count">
                    {format!("This will queue {} event(s) matching {} to be processed again.", plan.count, plan.filter)}
                </p>
                <ActionForm action=run>
                    <input type="hidden" name="event_type" value=plan.query.event_type.clone() />
                    <input type="hidden" name="status" value=plan.query.status.clone() />
                    <input type="hidden" name="object_id" value=plan.query.object_id.clone() />
                    <input type="hidden" name="event_id" value=plan.query.event_id.clone() />
                    <input type="hidden" name="from" value=plan.query.from.clone() />
                    <input type="hidden" name="to" value=plan.query.to.clone() />
                    <input type="hidden" name="expected" value=plan.count />
                    <button type="submit" data-testid="confirm-bulk" disabled=move || run.pending().get()>
                        {move || if run.pending().get() { "Starting..." } else { "Confirm" }}
                    </button>
                </ActionForm>
            </section>
        </Loaded>
        <p><a href="/admin/webhooks">"Back to the webhooks"</a></p>
    }
}
