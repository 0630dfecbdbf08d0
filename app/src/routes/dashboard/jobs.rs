//! `/admin/jobs`: the jobs by queue and state, latest run time first, in keyset pages; find one
//! by id (`?id=`). The filters are the query string.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

/// One job in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLine {
    pub id: String,
    pub queue: String,
    pub status: String,
    pub dead: bool,
    /// `2/12`.
    pub attempts: String,
    pub run_at: Timestamp,
}

/// A page of jobs, the next page's cursor, and every queue (for the filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<JobLine>,
    pub next: Option<String>,
    pub queues: Vec<String>,
    /// A search inside the arguments (listed newest queued first).
    pub by_argument: bool,
}

/// The jobs of `queue` in `state` whose argument at path `arg` holds `value` (each empty or
/// absent: any), or job `id`, a page at a time. Operators only.
#[server(endpoint = "admin_jobs")]
pub async fn admin_jobs(
    id: Option<String>,
    queue: Option<String>,
    state: Option<String>,
    arg: Option<String>,
    value: Option<String>,
    before: Option<String>,
) -> Result<JobList, AppError> {
    use billhook_core::dashboard::{
        Cursor,
        jobs::{self, JobFilter},
    };

    use crate::ssr::{fail, require_operator, state as app_state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let text = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let before = text(before).map(|c| Cursor::parse(&c)).transpose()?;
        let argument = text(arg).map(|path| (path, value.unwrap_or_default()));
        let filter = JobFilter { id: text(id), queue: text(queue), state: text(state), argument };
        let (rows, next) = jobs::list(&app_state()?.db, &filter, before.as_ref(), 50).await?;
        Ok(JobList {
            jobs: rows
                .into_iter()
                .map(|r| JobLine {
                    dead: r.is_dead(),
                    attempts: format!("{}/{}", r.attempts, r.max_attempts),
                    run_at: Timestamp(r.run_at * 1000),
                    id: r.id,
                    queue: r.queue,
                    status: r.status,
                })
                .collect(),
            next: next.map(|c| c.to_string()),
            by_argument: filter.argument.is_some(),
            queues: billhook_core::jobs::queues().into_iter().map(|(queue, _)| queue.to_owned()).collect(),
        })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let params = use_query_map();
    let get = move |name: &'static str| params.with(|q| q.get(name).unwrap_or_default());
    let user = crate::session::use_current_user();
    let is_admin = move || user.get_untracked().is_some_and(|u| u.is_admin());
    let list = Resource::new(
        move || (get("id"), get("queue"), get("state"), get("arg"), get("value"), get("before")),
        |(id, queue, state, arg, value, before)| {
            let some = |v: String| Some(v).filter(|v| !v.is_empty());
            admin_jobs(some(id), some(queue), some(state), some(arg), some(value), some(before))
        },
    );
    view! {
        <Title text="Jobs - Billhook" />
        <h1>"Jobs"</h1>
        <form method="get" action="/admin/jobs" class="filters">
            <label>"Job id " <input type="text" name="id" /></label>" "
            <button type="submit">"Find"</button>
        </form>
        <Loaded resource=list let:list>
            <form method="get" action="/admin/jobs" class="filters" data-testid="job-filters">
                <label>"Queue "
                    <select name="queue">
                        <option value="">"any"</option>
                        {list.queues.iter().map(|q| {
                            let selected = get("queue") == *q;
                            view! { <option value=q.clone() selected=selected>{q.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>" "
                <label>"State "
                    <select name="state">
                        <option value="">"any"</option>
                        {billhook_model::JOB_STATES.iter().map(|s| {
                            let selected = get("state") == *s;
                            view! { <option value=*s selected=selected>{*s}</option> }
                        }).collect_view()}
                    </select>
                </label>" "
                <label>"Argument " <input type="text" name="arg" placeholder="event_id" value=get("arg") /></label>" "
                <label>"= " <input type="text" name="value" value=get("value") /></label>" "
                <button type="submit">"Filter"</button>
            </form>
            {list.by_argument.then(|| view! {
                <p class="hint" data-testid="argument-hint">
                    {format!(
                        "Jobs whose argument at that path (names joined by dots, e.g. template.path) equals the value, \
                         newest queued first. Values over {} characters and inside lists are not searchable.",
                        billhook_model::MAX_SEARCHABLE_ARGUMENT_CHARS,
                    )}
                </p>
            })}
            <JobTable jobs=list.jobs />
            // Bulk actions take the queue, state and argument search (all of it, not the window
            // a page reads); a search by id is for finding one.
            {(is_admin() && get("id").is_empty()).then(|| {
                let bulk = |action: &str| format!(
                    "/admin/jobs/bulk?action={action}&queue={}&state={}&arg={}&value={}",
                    utf8_percent_encode(&get("queue"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&get("state"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&get("arg"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&get("value"), NON_ALPHANUMERIC),
                );
                view! {
                    <p>
                        <a href=bulk("retry") class="button" data-testid="bulk-retry">"Retry all that match"</a>" "
                        <a href=bulk("discard") class="button" data-testid="bulk-discard">"Discard all that match"</a>
                    </p>
                }
            })}
            {list.next.map(|cursor| {
                let href = format!(
                    "/admin/jobs?queue={}&state={}&arg={}&value={}&before={}",
                    utf8_percent_encode(&get("queue"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&get("state"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&get("arg"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&get("value"), NON_ALPHANUMERIC),
                    utf8_percent_encode(&cursor, NON_ALPHANUMERIC),
                );
                view! { <p><a href=href data-testid="older">"Older jobs"</a></p> }
            })}
        </Loaded>
    }
}

#[component]
fn JobTable(jobs: Vec<JobLine>) -> impl IntoView {
    if jobs.is_empty() {
        return view! { <p>"No jobs match."</p> }.into_any();
    }
    view! {
        <Table columns=&["Runs", "Job", "Queue", "State", "Attempts"] testid="jobs">
            {jobs.into_iter().map(|j| view! {
                <tr>
                    <td><Time at=j.run_at /></td>
                    <td><a href=format!("/admin/jobs/{}", j.id)><code>{j.id.clone()}</code></a></td>
                    <td>{j.queue}</td>
                    <td>{j.status}{j.dead.then_some(" (dead)")}</td>
                    <td>{j.attempts}</td>
                </tr>
            }).collect_view()}
        </Table>
    }
    .into_any()
}
