//! `/admin/jobs/bulk?action=retry|discard&queue=...&state=...`: an action on every job a filter
//! matches - not just a page of them - done by the server as one operation: first the dry run
//! (how many jobs it would touch now), then the confirmation, then one statement and its audit
//! entry. Admins only; works without JavaScript.

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

/// What the confirmation says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkPlan {
    pub action: String,
    pub queue: String,
    pub state: String,
    /// `queue=email state=Failed`.
    pub filter: String,
    pub count: i64,
}

#[cfg(feature = "ssr")]
fn filter_of(queue: &str, state: &str) -> billhook_core::dashboard::jobs::JobFilter {
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    billhook_core::dashboard::jobs::JobFilter { id: None, queue: text(queue), state: text(state), argument: None }
}

/// How many jobs `action` would touch among those of `queue` in `state`. Admins only.
#[server(endpoint = "admin_jobs_dry_run")]
pub async fn dry_run(action: String, queue: String, state: String) -> Result<BulkPlan, AppError> {
    use billhook_core::dashboard::jobs::{self, JobAction};
    use billhook_model::Role;

    use crate::ssr::{fail, require_role, state as app_state};
    let result: Result<_, AppError> = async {
        require_role(Role::Admin)?;
        let kind = JobAction::parse(&action).ok_or(AppError::Invalid)?;
        let filter = filter_of(&queue, &state);
        let count = jobs::count(&app_state()?.db, &filter, kind).await?;
        Ok(BulkPlan { action, queue, state, filter: filter.to_string(), count })
    }
    .await;
    result.or_else(fail)
}

/// Does `action` to every job of `queue` in `state` it applies to. Admins only; audited.
#[server(endpoint = "admin_jobs_bulk")]
pub async fn bulk(action: String, queue: String, state: String) -> Result<(), AppError> {
    use billhook_core::dashboard::{
        Actor,
        jobs::{self, JobAction},
    };
    use billhook_model::Role;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    use crate::ssr::{finish_form, require_role, state as app_state};
    let encode = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
    let list = format!("/admin/jobs?queue={}&state={}", encode(&queue), encode(&state));
    let back = format!("/admin/jobs/bulk?action={}&queue={}&state={}", encode(&action), encode(&queue), encode(&state));
    let result = async {
        let admin = require_role(Role::Admin)?;
        let kind = JobAction::parse(&action).ok_or(AppError::Invalid)?;
        let actor = Actor { user_id: admin.id, email: admin.email };
        jobs::apply(&app_state()?.db, &actor, &filter_of(&queue, &state), kind).await?;
        Ok(())
    }
    .await;
    finish_form(result, &list, &back)
}

#[component]
pub fn JobsBulkPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |name: &'static str| query.with(|q| q.get(name).unwrap_or_default());
    let run = ServerAction::<Bulk>::new();
    let plan = Resource::new(move || (get("action"), get("queue"), get("state")), |(a, q, s)| dry_run(a, q, s));
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
                    <input type="hidden" name="queue" value=plan.queue.clone() />
                    <input type="hidden" name="state" value=plan.state.clone() />
                    <button type="submit" data-testid="confirm-bulk" disabled=move || run.pending().get()>
                        {move || if run.pending().get() { "Working..." } else { "Confirm" }}
                    </button>
                </ActionForm>
            </section>
        </Loaded>
        <p><a href="/admin/jobs">"Back to the jobs"</a></p>
    }
}
