//! One queue's row on the operators' start page: its jobs by state (each a link to the filtered
//! job list), the oldest waiting job's age, the pause and how far it has spread over the worker
//! nodes, the chart of the window, and the pause / resume button for admins.

use billhook_model::ChartWindow;
use leptos::prelude::*;

use super::overview::{QueueLine, QueuePause};
use crate::components::chart::{BarChart, Series};

#[component]
pub fn QueueRow(
    line: QueueLine,
    /// Counts above it read "N+".
    count_cap: i64,
    /// Live nodes running workers.
    worker_nodes: i64,
    /// Unix ms of the chart's first bucket.
    since: i64,
    bucket_ms: i64,
    window: ChartWindow,
    /// Whether the viewer may pause and resume.
    admin: bool,
    pause: ServerAction<QueuePause>,
) -> impl IntoView {
    let q = line;
    let count = move |n: i64| if n > count_cap { format!("{count_cap}+") } else { n.to_string() };
    let waiting = count(q.by_state[0] + q.by_state[1]);
    let finished: i64 = q.done.iter().sum();
    let label = format!("{}: jobs finished and attempts failed, {}", q.queue, window.label());
    let series = vec![
        Series { name: "finished", class: "done", counts: q.done },
        Series { name: "failed attempts", class: "failed", counts: q.failed },
    ];
    let link = |state: &str| format!("/admin/jobs?queue={}&state={state}", q.queue);
    let name = q.queue.clone();
    view! {
        <tr data-testid="queue" data-queue=q.queue.clone()>
            <td>
                <a href=format!("/admin/jobs?queue={}", q.queue)><code>{q.queue.clone()}</code></a>
                {q.paused.as_ref().map(|(by, at)| view! {
                    <span class="badge badge-paused" data-testid="paused" title=format!("by {by} since {at}")>" paused"</span>
                })}
                <PauseSpread paused=q.paused.is_some() paused_on=q.paused_on worker_nodes />
            </td>
            <td data-testid="waiting"><a href=link("Pending")>{waiting}</a></td>
            <td><a href=link("Running")>{count(q.by_state[2])}</a></td>
            <td><a href=link("Failed")>{count(q.by_state[3])}</a></td>
            <td><a href=link("Killed")>{count(q.by_state[4])}</a></td>
            <td data-testid="finished">{finished}</td>
            <td>{q.oldest_waiting}</td>
            <td><BarChart series since bucket_ms label /></td>
            <td>{admin.then(|| {
                let (action, text) = if q.paused.is_some() { ("resume", "Resume") } else { ("pause", "Pause") };
                view! {
                    <ActionForm action=pause attr:class="inline">
                        <input type="hidden" name="queue" value=name />
                        <input type="hidden" name="action" value=action />
                        <button type="submit" data-testid=format!("queue-{action}")>{text}</button>
                    </ActionForm>
                }
            })}</td>
        </tr>
    }
}

/// How far a pause or a resume has spread: the worker nodes that have paused the queue, while
/// that is not yet what the operator asked of every one (`data-complete` once it is).
#[component]
fn PauseSpread(paused: bool, paused_on: i64, worker_nodes: i64) -> impl IntoView {
    let complete = if paused { paused_on == worker_nodes } else { paused_on == 0 };
    let nodes = |n: i64| if n == 1 { "1 worker node".to_owned() } else { format!("{n} worker nodes") };
    let text = match (paused, complete) {
        (true, true) if worker_nodes == 0 => " (no worker node is running)".to_owned(),
        (true, true) => format!(" on every worker node ({})", nodes(worker_nodes)),
        (true, false) => format!(" on {paused_on} of {} so far", nodes(worker_nodes)),
        (false, true) => String::new(),
        (false, false) => format!(" resuming: still paused on {paused_on} of {}", nodes(worker_nodes)),
    };
    (paused || !complete).then(|| {
        view! { <small class="pause-spread" data-testid="pause-spread" data-complete=complete.to_string()>{text}</small> }
    })
}
