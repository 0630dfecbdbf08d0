//! `/admin/jobs/bulk?action=retry|discard&queue=...&state=...&arg=...&value=...`: an action on
//! every job a filter matches - not just a page of them, and a search inside the arguments too -
//! done by the server as one bulk operation: first the dry run (how many jobs it would touch
//! now), then the confirmation, then the operation, whose progress page the browser goes to.
//! Admins only; works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
    },
};

/// The filter as the jobs list's query string carries it (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobQuery {
    pub queue: String,
    pub state: String,
    /// A path in the arguments (`event_id`) and the value it must hold.
    pub arg: String,
    pub value: String,
}

/// What the confirmation says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkPlan {
    pub action: String,
    pub query: JobQuery,
    /// `queue=email state=Failed`.
    pub filter: String,
    pub count: i64,
}

#[cfg(feature = "ssr")]
fn bulk_action(action: &str, query: &JobQuery) -> Result<billhook_core::dashboard::bulk::BulkAction, AppError> {
    use billhook_core::dashboard::{bulk::BulkAction, jobs::JobFilter};
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let argument = text(&query.arg).map(|path| (path, query.value.clone()));
    let filter = JobFilter { id: None, queue: text(&query.queue), state: text(&query.state), argument };
    match action {
        "retry" => Ok(BulkAction::RetryJobs(filter)),
        "discard" => Ok(BulkAction::DiscardJobs(filter)),
        _ => Err(AppError::Invalid),
    }
}

/// How many jobs `action` would touch among those the filter matches. Admins only.
#[server(endpoint = "admin_jobs_dry_run")]
pub async fn dry_run(
    action: String,
    queue: String,
    state: String,
    #[server(default)] arg: String,
    #[server(default)] value: String,
) -> Result<BulkPlan, AppError> {
    use billhook_model::Role;

    use crate::ssr::{fail, require_role, state as app_state};
    let result: Result<_, AppError> = async {
        require_role(Role::Admin)?;
        let query = JobQuery { queue, state, arg, value };
        let bulk = bulk_action(&action, &query)?;
        let count = bulk.dry_run(&app_state()?.db).await?;
        Ok(BulkPlan { action, query, filter: bulk.filter_text(), count })
    }
    .await;
    result.or_else(fail)
}

/// Starts `action` on every job the filter matches that it applies to (`expected`: the dry-run
/// count the admin confirmed), then on to the operation's progress page. Admins only; audited
/// when it ends.
#[server(endpoint = "admin_jobs_bulk")]
pub async fn bulk(
    action: String,
    queue: String,
    state: String,
    #[server(default)] arg: String,
    #[server(default)] value: String,
    #[server(default)] expected: i64,
) -> Result<(), AppError> {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    use crate::ssr::{finish_form, require_admin, state as app_state};
    let encode = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
    let back = format!(
        "/admin/jobs/bulk?action={}&queue={}&state={}&arg={}&value={}",
        encode(&action),
        encode(&queue),
        encode(&state),
        encode(&arg),
        encode(&value)
    );
    let query = JobQuery { queue, state, arg, value };
    let started = async {
        let actor = require_admin()?;
        let bulk = bulk_action(&action, &query)?;
        Ok(billhook_core::dashboard::bulk::start(&app_state()?.db, &actor, &bulk, expected).await?)
    }
    .await;
    let progress = started.as_ref().map(|id| format!("/admin/bulk/{id}")).unwrap_or_default();
    finish_form(started.map(drop), &progress, &back)
}

#[component]
pub fn JobsBulkPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |name: &'static str| query.with(|q| q.get(name).unwrap_or_default());
    let run = ServerAction::<Bulk>::new();
    let plan = Resource::new(
        move || (get("action"), get("queue"), get("state"), get("arg"), get("value")),
        |(action, queue, state, arg, value)| dry_run(action, queue, state, arg, value),
    );
    view! {
        <Title text="Act on jobs - Billhook" />
        <h1>"Act on every matching job"</h1>
        <ErrorNote message=form_error(move || run.value().get()) />
        <Loaded resource=plan let:plan>
            <section class="card" data-testid="dry-run">
                <p data-testid="dry-run-count">
                    {format!("This will {} {} job(s) matching {}.", plan.action, plan.count, plan.filter)}
                </p>
                <ActionForm action=run>
                    <input type="hidden" name="action" value=plan.action.clone() />
                    <input type="hidden" name="queue" value=plan.query.queue.clone() />
                    <input type="hidden" name="state" value=plan.query.state.clone() />
                    <input type="hidden" name="arg" value=plan.query.arg.clone() />
                    <input type="hidden" name="value" value=plan.query.value.clone() />
                    <input type="hidden" name="expected" value=plan.count />
                    <button type="submit" data-testid="confirm-bulk" disabled=move || run.pending().get()>
                        {move || if run.pending().get() { "Starting..." } else { "Confirm" }}
                    </button>
                </ActionForm>
            </section>
        </Loaded>
        <p><a href="/admin/jobs">"Back to the jobs"</a></p>
    }
}
