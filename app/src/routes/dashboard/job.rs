//! `/admin/jobs/{id}`: one job - its queue, state, arguments, next run time, and every attempt
//! Billhook recorded with its error, worker and timings; "Retry now" and "Discard" for admins.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
        table::Table,
        time::Time,
    },
    session::use_current_user,
};

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptLine {
    pub attempt: i64,
    pub worker: String,
    pub started_at: Timestamp,
    /// Milliseconds it ran.
    pub took_ms: i64,
    pub error: Option<String>,
    pub retry_at: Option<Timestamp>,
}

#[cfg(feature = "ssr")]
impl From<billhook_core::dashboard::jobs::Attempt> for AttemptLine {
    fn from(a: billhook_core::dashboard::jobs::Attempt) -> Self {
        Self {
            attempt: a.attempt,
            worker: a.worker,
            started_at: Timestamp(a.started_at),
            took_ms: a.finished_at - a.started_at,
            error: a.error,
            retry_at: a.retry_at.map(Timestamp),
        }
    }
}

/// Everything about one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub queue: String,
    pub status: String,
    pub dead: bool,
    pub can_retry: bool,
    pub can_discard: bool,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub done_at: Option<Timestamp>,
    pub last_result: Option<String>,
    pub arguments: String,
    pub history: Vec<AttemptLine>,
    /// What set it off: `("event", "evt_...")` or `("schedule", name)`.
    pub cause: Option<(String, String)>,
}

/// Job `id`. Operators only.
#[server(endpoint = "admin_job")]
pub async fn admin_job(id: String) -> Result<JobView, AppError> {
    use billhook_core::dashboard::jobs::{self, JobAction};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let d = jobs::detail(&state()?.db, &id).await?.ok_or(AppError::NotFound)?;
        Ok(JobView {
            dead: d.row.is_dead(),
            can_retry: d.row.allows(JobAction::Retry),
            can_discard: d.row.allows(JobAction::Discard),
            id: d.row.id,
            queue: d.row.queue,
            status: d.row.status,
            attempts: d.row.attempts,
            max_attempts: d.row.max_attempts,
            run_at: Timestamp(d.row.run_at * 1000),
            done_at: d.row.done_at.map(|s| Timestamp(s * 1000)),
            last_result: d.row.last_result,
            arguments: d.arguments,
            history: d.attempts.into_iter().map(AttemptLine::from).collect(),
            cause: d.cause,
        })
    }
    .await;
    result.or_else(fail)
}

/// `retry` (run now) or `discard` job `id`. Admins only; recorded in the audit log.
#[server(endpoint = "admin_job_action")]
pub async fn job_action(id: String, action: String) -> Result<(), AppError> {
    use billhook_core::dashboard::jobs;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    use crate::ssr::{finish_form, require_admin, state};
    let page = format!("/admin/jobs/{}", utf8_percent_encode(&id, NON_ALPHANUMERIC));
    let result = async {
        let actor = require_admin()?;
        let db = &state()?.db;
        match action.as_str() {
            "retry" => jobs::retry_now(db, &actor, &id).await?,
            "discard" => jobs::discard(db, &actor, &id).await?,
            _ => return Err(AppError::Invalid),
        }
        Ok(())
    }
    .await;
    finish_form(result, &page, &page)
}

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let act = ServerAction::<JobAction>::new();
    let job = Resource::new(
        move || (params.with(|p| p.get("id").unwrap_or_default()), act.version().get()),
        |(id, _)| admin_job(id),
    );
    view! {
        <Title text="Job - Billhook" />
        <ErrorNote message=form_error(move || act.value().get()) />
        <Loaded resource=job let:job>
            <JobDetail job act />
        </Loaded>
        <p><a href="/admin/jobs">"All jobs"</a></p>
    }
}

#[component]
fn JobDetail(job: JobView, act: ServerAction<JobAction>) -> impl IntoView {
    let admin = use_current_user().get_untracked().is_some_and(|u| u.is_admin());
    let can_retry = admin && job.can_retry;
    let can_discard = admin && job.can_discard;
    let button = move |id: String, action: &'static str, label: &'static str| {
        view! {
            <ActionForm action=act attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="action" value=action />
                <button type="submit" data-testid=format!("job-{action}")>{label}</button>
            </ActionForm>
        }
    };
    view! {
        <h1><code data-testid="job-id">{job.id.clone()}</code></h1>
        <section class="card">
            <dl>
                <dt>"Queue"</dt><dd>{job.queue}</dd>
                <dt>"State"</dt><dd data-testid="job-status">{job.status}{job.dead.then_some(" (dead: no attempt left)")}</dd>
                <dt>"Attempts"</dt><dd>{format!("{} of {}", job.attempts, job.max_attempts)}</dd>
                <dt>"Runs at"</dt><dd><Time at=job.run_at /></dd>
                <dt>"Finished"</dt><dd>{job.done_at.map(|at| view! { <Time at /> })}</dd>
                <dt>"Last result"</dt><dd><code>{job.last_result.unwrap_or_default()}</code></dd>
                <dt>"Caused by"</dt><dd data-testid="job-cause">{job.cause.map(|(kind, id)| match kind.as_str() {
                    "event" => view! { "Stripe event "<a href=format!("/admin/webhooks/{id}")><code>{id.clone()}</code></a> }.into_any(),
                    _ => view! { "schedule "<a href="/admin/schedules"><code>{id}</code></a> }.into_any(),
                })}</dd>
            </dl>
            {can_retry.then(|| button(job.id.clone(), "retry", "Retry now"))}
            {can_discard.then(|| button(job.id.clone(), "discard", "Discard"))}
        </section>
        <section class="card">
            <h2>"Arguments"</h2>
            <pre data-testid="job-arguments">{job.arguments}</pre>
        </section>
        <section class="card">
            <h2>"Attempts"</h2>
            <AttemptTable history=job.history />
        </section>
    }
}

/// A job's recorded attempts, or a line saying there is none.
#[component]
pub fn AttemptTable(history: Vec<AttemptLine>) -> impl IntoView {
    if history.is_empty() {
        return view! { <p>"No failed attempt recorded."</p> }.into_any();
    }
    view! {
        <Table columns=&["#", "Started", "Took", "Worker", "Error", "Next try"] testid="job-attempts">
            {history.into_iter().map(|a| view! {
                <tr>
                    <td>{a.attempt}</td>
                    <td><Time at=a.started_at /></td>
                    <td>{format!("{} ms", a.took_ms)}</td>
                    <td><code>{a.worker}</code></td>
                    <td class="error">{a.error.unwrap_or_default()}</td>
                    <td>{a.retry_at.map(|at| view! { <Time at /> })}</td>
                </tr>
            }).collect_view()}
        </Table>
    }
    .into_any()
}
