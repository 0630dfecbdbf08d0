//! `/admin/nodes`: every Billhook process - its roles, version, host and pid, when it started,
//! how old its last heartbeat is against the rescue threshold (past it, the node is presumed
//! dead and apalis re-runs its jobs elsewhere), and the jobs its workers are running; below, the
//! jobs recently taken back from a node (silent past the threshold, or shutting down).

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

/// What a node's heartbeat says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Liveness {
    Alive,
    /// Shut down cleanly.
    Stopped,
    /// Silent past the rescue threshold.
    Dead,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLine {
    pub name: String,
    pub roles: String,
    pub version: String,
    pub host: String,
    pub pid: i64,
    pub started_at: Timestamp,
    /// Seconds since its last heartbeat.
    pub heartbeat_age_secs: i64,
    pub liveness: Liveness,
    pub jobs_in_flight: i64,
}

/// A job apalis took back from a node's worker, to run again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescueLine {
    pub job_id: String,
    pub queue: String,
    /// The node that held it (its worker's name when that names no node).
    pub node: String,
    /// Running, or Queued (fetched, not started).
    pub was: String,
    /// Handed back by the node shutting down; else taken after its heartbeat stopped.
    pub handed_back: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeList {
    pub nodes: Vec<NodeLine>,
    /// Newest first.
    pub rescues: Vec<RescueLine>,
    /// Seconds of silence after which a node is presumed dead.
    pub threshold_secs: i64,
}

/// The nodes, newest heartbeat first. Operators only.
#[server(endpoint = "admin_nodes")]
pub async fn admin_nodes() -> Result<NodeList, AppError> {
    use billhook_core::{clock, dashboard::nodes};

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let state = state()?;
        let threshold_ms = i64::try_from(state.operations.alive_within.as_millis()).unwrap_or(i64::MAX);
        let now = clock::now_ms();
        let nodes = nodes::list(&state.db)
            .await?
            .into_iter()
            .map(|n| NodeLine {
                liveness: match (n.stopped_at, now - n.heartbeat_at > threshold_ms) {
                    (Some(_), _) => Liveness::Stopped,
                    (None, true) => Liveness::Dead,
                    (None, false) => Liveness::Alive,
                },
                heartbeat_age_secs: (now - n.heartbeat_at) / 1000,
                name: n.info.name,
                roles: n.info.roles,
                version: n.info.version,
                host: n.info.host,
                pid: n.info.pid,
                started_at: Timestamp(n.info.started_at),
                jobs_in_flight: n.jobs_in_flight,
            })
            .collect();
        let rescues = nodes::recent_rescues(&state.db)
            .await?
            .into_iter()
            .map(|r| RescueLine {
                node: r.node().unwrap_or(&r.worker).to_owned(),
                handed_back: r.handed_back(),
                at: Timestamp(r.rescued_at),
                job_id: r.task_id,
                queue: r.queue,
                was: r.was,
            })
            .collect();
        Ok(NodeList { nodes, rescues, threshold_secs: threshold_ms / 1000 })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn NodesPage() -> impl IntoView {
    let nodes = Resource::new(|| (), |_| admin_nodes());
    view! {
        <Title text="Nodes - Billhook" />
        <section class="card">
            <h1>"Nodes"</h1>
            <Loaded resource=nodes let:list>
                <p>{format!("A node silent for more than {} s is presumed dead; its running jobs are run again elsewhere.", list.threshold_secs)}</p>
                <Table columns=&["Node", "Roles", "Version", "Host", "Pid", "Started", "Last heartbeat", "State", "Jobs running"] testid="nodes">
                    {list.nodes.into_iter().map(|n| view! {
                        <tr data-testid="node">
                            <td><code>{n.name}</code></td>
                            <td>{n.roles}</td>
                            <td>{n.version}</td>
                            <td>{n.host}</td>
                            <td>{n.pid}</td>
                            <td><Time at=n.started_at /></td>
                            <td>{format!("{} s ago", n.heartbeat_age_secs)}</td>
                            <td data-testid="liveness">{match n.liveness {
                                Liveness::Alive => "alive",
                                Liveness::Stopped => "stopped",
                                Liveness::Dead => "dead",
                            }}</td>
                            <td>{n.jobs_in_flight}</td>
                        </tr>
                    }).collect_view()}
                </Table>
            </Loaded>
        </section>
        <section class="card">
            <h2>"Recently rescued jobs"</h2>
            <Loaded resource=nodes let:list>
                {if list.rescues.is_empty() {
                    view! { <p class="hint">"No job has been taken back from a node."</p> }.into_any()
                } else {
                    view! {
                        <Table columns=&["When", "Job", "Queue", "From node", "Was", "Why"] testid="rescues">
                            {list.rescues.into_iter().map(|r| {
                                let href = format!("/admin/jobs/{}", r.job_id);
                                view! {
                                    <tr data-testid="rescue">
                                        <td><Time at=r.at /></td>
                                        <td><a href=href><code>{r.job_id}</code></a></td>
                                        <td>{r.queue}</td>
                                        <td><code>{r.node}</code></td>
                                        <td>{r.was}</td>
                                        <td>{if r.handed_back { "handed back at shutdown" } else { "heartbeat stopped" }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </Table>
                    }.into_any()
                }}
            </Loaded>
        </section>
    }
}
