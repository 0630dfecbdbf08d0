//! `/admin/schedules`: each periodic job with its cron expression, its next tick and its last
//! runs (which node, when, how long, the error); "Run now" for admins, run once by the first
//! scheduler that sees the request.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
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

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLine {
    pub ran_at: Timestamp,
    pub node: String,
    /// "1.2 s"; None: not finished (running, or its node died).
    pub took: Option<String>,
    pub error: Option<String>,
    pub requested_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleLine {
    pub name: String,
    pub cron: String,
    pub next_at: Option<Timestamp>,
    pub requested_at: Option<Timestamp>,
    pub runs: Vec<RunLine>,
}

/// Every schedule with its last runs. Operators only.
#[server(endpoint = "admin_schedules")]
pub async fn admin_schedules() -> Result<Vec<ScheduleLine>, AppError> {
    use billhook_core::dashboard::schedules;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let state = state()?;
        let rows = schedules::list(&state.db, &state.operations.schedules, billhook_core::clock::now_ms()).await?;
        Ok(rows
            .into_iter()
            .map(|row| ScheduleLine {
                name: row.spec.name,
                cron: row.spec.cron,
                next_at: row.next_at.map(Timestamp),
                requested_at: row.requested_at.map(Timestamp),
                runs: row
                    .last_runs
                    .into_iter()
                    .map(|run| RunLine {
                        ran_at: Timestamp(run.ran_at),
                        node: run.node,
                        took: run.finished_at.map(|end| format!("{:.1} s", (end - run.ran_at) as f64 / 1000.0)),
                        error: run.error,
                        requested_by: run.requested_by,
                    })
                    .collect(),
            })
            .collect())
    }
    .await;
    result.or_else(fail)
}

/// Asks the schedulers to run schedule `name` once, now. Admins only; recorded in the audit log.
#[server(endpoint = "admin_schedule_run")]
pub async fn schedule_run(name: String) -> Result<(), AppError> {
    use billhook_core::dashboard::schedules;

    use crate::ssr::{finish_form, require_admin, state};
    let result = async {
        let actor = require_admin()?;
        let state = state()?;
        schedules::run_now(&state.db, &actor, &state.operations.schedules, &name).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/admin/schedules", "/admin/schedules")
}

#[component]
pub fn SchedulesPage() -> impl IntoView {
    let run = ServerAction::<ScheduleRun>::new();
    let schedules = Resource::new(move || run.version().get(), |_| admin_schedules());
    view! {
        <Title text="Schedules - Billhook" />
        <section class="card">
            <h1>"Schedules"</h1>
            <p>"Each tick runs once across the cluster, however many schedulers run. Times are UTC."</p>
            <ErrorNote message=form_error(move || run.value().get()) />
            <Loaded resource=schedules let:list>
                <ScheduleTable list run />
            </Loaded>
        </section>
    }
}

#[component]
fn ScheduleTable(list: Vec<ScheduleLine>, run: ServerAction<ScheduleRun>) -> impl IntoView {
    let admin = use_current_user().get_untracked().is_some_and(|u| u.is_admin());
    view! {
        <Table columns=&["Schedule", "Cron", "Next run", "Last runs", ""] testid="schedules">
            {list.into_iter().map(|s| {
                let name = s.name.clone();
                view! {
                <tr data-testid="schedule" data-schedule=s.name.clone()>
                    <td><code>{s.name.clone()}</code></td>
                    <td><code>{s.cron}</code></td>
                    <td>{s.next_at.map(|at| view! { <Time at /> })}</td>
                    <td>
                        <ul class="runs" data-testid="runs">
                            {s.runs.into_iter().map(|r| {
                                let class = if r.error.is_some() { "error" } else { "" };
                                view! {
                                <li data-testid="run" class=class>
                                    <Time at=r.ran_at />" on "<code>{r.node}</code>
                                    {match (r.took, r.error) {
                                        (_, Some(error)) => format!(": failed: {error}"),
                                        (Some(took), None) => format!(": done in {took}"),
                                        (None, None) => ": not finished".to_owned(),
                                    }}
                                    {r.requested_by.map(|by| format!(" (run now by {by})"))}
                                </li>
                            }}).collect_view()}
                        </ul>
                    </td>
                    <td>
                        {s.requested_at.map(|at| view! { <span data-testid="requested">"Requested "<Time at /></span> })}
                        {admin.then(|| view! {
                            <ActionForm action=run attr:class="inline">
                                <input type="hidden" name="name" value=name />
                                <button type="submit" data-testid="run-now">"Run now"</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }}).collect_view()}
        </Table>
    }
}
