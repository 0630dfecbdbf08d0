//! `/admin`: the operators' start page. Per queue: its jobs by state, how long the oldest
//! waiting job has waited, whether it is paused (admins pause and resume it here), and charts
//! of jobs finished and attempts failed over the last hour, day or week (`?window=`). The
//! webhooks of that window, the nodes alive, the accounts. `?refresh=` seconds reloads the data
//! in place while the tab is visible.

use billhook_model::{ChartWindow, Role, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{queue_row::QueueRow, sandbox::SandboxControls, sandbox_activity::SandboxActivity};
use crate::{
    AppError,
    components::{
        chart::{BarChart, Series},
        data::{Loaded, refetch_every},
        form::{ErrorNote, form_error},
        table::Table,
        time::Time,
    },
    session::use_current_user,
};

/// One account in the operators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// One queue's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLine {
    pub queue: String,
    pub job: String,
    /// Pending, Queued, Running, Failed (retrying), Killed (dead); each counted up to
    /// `count_cap` (one more means "more").
    pub by_state: Vec<i64>,
    /// How long the oldest waiting job has been due ("4 min").
    pub oldest_waiting: Option<String>,
    /// Who paused it, and when.
    pub paused: Option<(String, Timestamp)>,
    /// The live worker nodes that have paused it (out of `worker_nodes`).
    pub paused_on: i64,
    pub done: Vec<i64>,
    pub failed: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverviewData {
    pub window: ChartWindow,
    pub count_cap: i64,
    /// Unix ms of the first bucket.
    pub since: i64,
    pub queues: Vec<QueueLine>,
    pub webhooks_received: Vec<i64>,
    pub webhook_duplicates: i64,
    pub webhook_refusals: i64,
    pub nodes_alive: i64,
    /// Live nodes running workers.
    pub worker_nodes: i64,
    pub account_count: i64,
    pub latest_accounts: Vec<AccountSummary>,
}

/// `secs` as the page says an age: "45 s", "12 min", "3 h", "2 d".
#[cfg(feature = "ssr")]
fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// The overview over `window` (`hour`, `day`, `week`; absent: hour). Operators only.
#[server(endpoint = "admin_overview")]
pub async fn admin_overview(window: Option<String>) -> Result<AdminOverviewData, AppError> {
    use billhook_core::{clock, dashboard::queues, jobs};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let window = match window.as_deref().filter(|w| !w.is_empty()) {
            Some(text) => ChartWindow::parse(text).ok_or(AppError::Invalid)?,
            None => ChartWindow::default(),
        };
        let state = state()?;
        let now = clock::now_ms();
        let alive_within = i64::try_from(state.operations.alive_within.as_millis()).unwrap_or(i64::MAX);
        let overview = queues::overview(&state.db, &jobs::queues(), window, now, alive_within).await?;
        let accounts = state.accounts;
        let account_count = accounts.count().await?;
        let latest_accounts = accounts
            .list(None, 10)
            .await?
            .into_iter()
            .map(|u| AccountSummary { id: u.id, email: u.email, role: u.role, created_at: Timestamp(u.created_at_ms) })
            .collect();
        Ok(AdminOverviewData {
            window,
            count_cap: queues::COUNT_CAP,
            since: overview.since,
            queues: overview
                .queues
                .into_iter()
                .map(|q| QueueLine {
                    by_state: q.by_state.to_vec(),
                    oldest_waiting: q.oldest_waiting.map(|due| age(now / 1000 - due)),
                    paused: q.paused.map(|p| (p.paused_by, Timestamp(p.paused_at))),
                    paused_on: q.paused_on,
                    queue: q.queue,
                    job: q.job,
                    done: q.done,
                    failed: q.failed,
                })
                .collect(),
            webhooks_received: overview.webhooks.received,
            webhook_duplicates: overview.webhooks.duplicates,
            webhook_refusals: overview.webhooks.refused,
            nodes_alive: overview.nodes_alive,
            worker_nodes: overview.worker_nodes,
            account_count,
            latest_accounts,
        })
    }
    .await;
    result.or_else(fail)
}

/// Pauses (`action=pause`) or resumes (`action=resume`) `queue` on every node. Admins only;
/// recorded in the audit log.
#[server(endpoint = "admin_queue_pause")]
pub async fn queue_pause(queue: String, action: String) -> Result<(), AppError> {
    use billhook_core::dashboard::queues;

    use crate::ssr::{finish_form, require_admin, state};
    let result = async {
        let actor = require_admin()?;
        let pause = match action.as_str() {
            "pause" => true,
            "resume" => false,
            _ => return Err(AppError::Invalid),
        };
        let known: Vec<&str> = billhook_core::jobs::queues().into_iter().map(|(queue, _)| queue).collect();
        queues::set_paused(&state()?.db, &actor, &known, &queue, pause).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/admin", "/admin")
}

/// The refresh intervals offered, in seconds (0: off).
const REFRESH_CHOICES: [u32; 4] = [0, 5, 15, 60];

#[component]
pub fn AdminOverview() -> impl IntoView {
    let query = use_query_map();
    let window = move || query.read().get("window");
    let refresh = move || query.read().get("refresh").and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    let pause = ServerAction::<QueuePause>::new();
    let data = Resource::new(move || (window(), pause.version().get()), |(window, _)| admin_overview(window));
    refetch_every(data, refresh);
    let user = use_current_user();
    view! {
        <Title text="Operations - Billhook" />
        <section class="card">
            <h1>"Operations"</h1>
            <ErrorNote message=form_error(move || pause.value().get()) />
            <Loaded resource=data fallback=|| view! { <p>"Loading..."</p> } let:data>
                <Overview data pause refresh=refresh() />
            </Loaded>
        </section>
        // The sandbox's keys and clock controls are an admin's, not a viewer's.
        {move || user.get().is_some_and(|u| u.is_admin()).then(|| view! {
            <SandboxControls />
            <SandboxActivity />
        })}
    }
}

#[component]
fn Overview(data: AdminOverviewData, pause: ServerAction<QueuePause>, refresh: u32) -> impl IntoView {
    let admin = use_current_user().get_untracked().is_some_and(|u| u.is_admin());
    let window = data.window;
    let (since, bucket_ms) = (data.since, window.bucket_ms());
    view! {
        <form method="get" action="/admin" class="filters" data-testid="overview-settings">
            <label>"Charts over the "
                <select name="window">
                    {ChartWindow::ALL.into_iter().map(|w| view! {
                        <option value=w.as_str() selected=w == window>{w.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>" Refresh "
                <select name="refresh" data-testid="refresh">
                    {REFRESH_CHOICES.into_iter().map(|s| view! {
                        <option value=s selected=s == refresh>{if s == 0 { "off".to_owned() } else { format!("every {s} s") }}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Show"</button>
        </form>
        <p class="stat">
            <span data-testid="nodes-alive">{data.nodes_alive}</span>" nodes alive · "
            <span data-testid="account-count">{data.account_count}</span>" accounts"
        </p>
        <h2>"Queues"</h2>
        <Table columns=&["Queue", "Waiting", "Running", "Retrying", "Dead", "Finished", "Oldest waiting", "Finished / failed attempts", ""] testid="queues">
            {data.queues.into_iter().map(|line| view! {
                <QueueRow line count_cap=data.count_cap worker_nodes=data.worker_nodes since bucket_ms window admin pause />
            }).collect_view()}
        </Table>
        <h2>"Webhooks, " {window.label()}</h2>
        <p>
            <span data-testid="webhooks-received">{data.webhooks_received.iter().sum::<i64>()}</span>" events received, "
            <span data-testid="webhook-duplicates">{data.webhook_duplicates}</span>" repeated deliveries, "
            <a href="/admin/refused"><span data-testid="webhook-refusals">{data.webhook_refusals}</span>" refused"</a>". "
            <a href="/admin/webhooks">"All webhooks"</a>
        </p>
        <BarChart
            series=vec![Series { name: "events", class: "done", counts: data.webhooks_received }]
            since
            bucket_ms
            label=format!("Webhook events received, {}", window.label())
        />
        <h2>"Newest accounts"</h2>
        <Table columns=&["Id", "E-mail", "Role", "Created"]>
            {data.latest_accounts.into_iter().map(|a| view! {
                <tr>
                    <td>{a.id}</td>
                    <td><a href=format!("/admin/customers/{}", a.id) data-testid="customer-link">{a.email}</a></td>
                    <td>{a.role.as_str()}</td>
                    <td><Time at=a.created_at /></td>
                </tr>
            }).collect_view()}
        </Table>
    }
}
