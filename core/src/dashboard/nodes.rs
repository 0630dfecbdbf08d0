//! The nodes page: every process that registered itself (see [`crate::nodes`]), newest
//! heartbeat first, with the jobs its workers hold running now; and the jobs apalis recently took
//! back from a worker (`job_rescues`, noted by a trigger: see `jobs::schema`).

use super::DashboardError;
use crate::{
    db::{Db, Sql},
    nodes::NodeInfo,
    on_db,
};

/// One process: what it said of itself, its last heartbeat and the jobs its workers run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeRow {
    #[sqlx(flatten)]
    pub info: NodeInfo,
    /// Unix ms.
    pub heartbeat_at: i64,
    /// Set when it shut down cleanly.
    pub stopped_at: Option<i64>,
    #[sqlx(skip)]
    pub jobs_in_flight: i64,
}

/// How many nodes the page lists (stopped and dead ones are kept until the cleanup drops them).
pub const NODES_SHOWN: i64 = 100;

const RUNNING_BY_WORKER: Sql = Sql {
    sqlite: "SELECT lock_by, COUNT(*) FROM Jobs WHERE status = 'Running' AND lock_by IS NOT NULL GROUP BY lock_by",
    postgres: "SELECT lock_by, COUNT(*) FROM apalis.jobs WHERE status = 'Running' AND lock_by IS NOT NULL \
               GROUP BY lock_by",
};

/// The nodes, newest heartbeat first.
pub async fn list(db: &Db) -> Result<Vec<NodeRow>, DashboardError> {
    let mut nodes: Vec<NodeRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT name, roles, version, host, pid, started_at, heartbeat_at, stopped_at FROM nodes \
             ORDER BY heartbeat_at DESC LIMIT $1",
        )
        .bind(NODES_SHOWN)
        .fetch_all(pool)
        .await
    })?;
    let running: Vec<(String, i64)> =
        on_db!(db, pool => sqlx::query_as(db.sql(&RUNNING_BY_WORKER)).fetch_all(pool).await)?;
    for (worker, count) in running {
        if let Some(node) = nodes.iter_mut().find(|n| node_of(&worker) == Some(n.info.name.as_str())) {
            node.jobs_in_flight += count;
        }
    }
    Ok(nodes)
}

/// A job apalis took back from a worker.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RescueRow {
    pub task_id: String,
    pub queue: String,
    /// The worker that held it.
    pub worker: String,
    /// Running, or Queued (fetched but not started).
    pub was: String,
    /// apalis' note, as JSON (`{"Err": "Re-enqueued due to worker heartbeat timeout."}`).
    pub reason: Option<String>,
    /// Unix ms.
    pub rescued_at: i64,
}

impl RescueRow {
    /// The node whose worker held the job.
    pub fn node(&self) -> Option<&str> {
        node_of(&self.worker)
    }

    /// Handed back by a node shutting down, rather than taken from one that went silent.
    pub fn handed_back(&self) -> bool {
        self.reason.as_deref().is_some_and(|reason| reason.contains("shutdown"))
    }
}

/// How many rescues the page lists.
pub const RESCUES_SHOWN: i64 = 50;

/// The latest rescues, newest first.
pub async fn recent_rescues(db: &Db) -> Result<Vec<RescueRow>, DashboardError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT task_id, queue, worker, was, reason, rescued_at FROM job_rescues \
             ORDER BY rescued_at DESC, id DESC LIMIT $1",
        )
        .bind(RESCUES_SHOWN)
        .fetch_all(pool)
        .await
    })?)
}

/// The node a worker runs on, from its name (`{queue}@{node}-{restarts}`).
fn node_of(worker: &str) -> Option<&str> {
    let (_, rest) = worker.split_once('@')?;
    rest.rsplit_once('-').map(|(node, _)| node)
}

#[cfg(test)]
mod tests {
    use super::node_of;

    #[test]
    fn a_workers_node_is_read_from_its_name() {
        assert_eq!(node_of("email@host-12-1764000000000-3"), Some("host-12-1764000000000"));
        assert_eq!(node_of("a worker of someone else"), None);
    }
}
