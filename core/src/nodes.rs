//! The cluster's processes, as operators see them: each `billhook serve` writes a row in `nodes`
//! when it starts, proves it is alive every heartbeat, and marks it stopped when it shuts down.
//! A node whose heartbeat is older than the rescue threshold is presumed dead (its running jobs
//! are re-run elsewhere by apalis' orphan rescue, on the same threshold).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{clock, db::Db, on_db};

/// What a process says of itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeInfo {
    /// [`crate::jobs::node_name`]: host, pid and start time.
    pub name: String,
    /// `web`, `worker`, `scheduler`, comma-separated.
    pub roles: String,
    pub version: String,
    pub host: String,
    pub pid: i64,
    /// Unix ms.
    pub started_at: i64,
}

impl NodeInfo {
    /// This process, serving `roles`.
    pub fn this_process(roles: &[&str], version: &str) -> Self {
        let host =
            std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
        Self {
            name: crate::jobs::node_name(),
            roles: roles.join(","),
            version: version.to_owned(),
            host,
            pid: i64::from(std::process::id()),
            started_at: clock::now_ms(),
        }
    }
}

/// Registers `node`, then beats every `interval` until `shutdown`, when it marks itself stopped.
/// A failed beat is logged and tried again at the next one.
pub async fn heartbeat_until(db: Db, node: NodeInfo, interval: Duration, shutdown: CancellationToken) {
    let (db, node) = (&db, &node);
    crate::periodic::every_until(interval, shutdown, move |stopping| async move {
        if let Err(error) = beat(db, node, stopping.then(clock::now_ms)).await {
            tracing::warn!(%error, stopping, "could not record this node's heartbeat");
        }
    })
    .await;
}

async fn beat(db: &Db, node: &NodeInfo, stopped_at: Option<i64>) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO nodes (name, roles, version, host, pid, started_at, heartbeat_at, stopped_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = excluded.stopped_at",
        )
        .bind(&node.name)
        .bind(&node.roles)
        .bind(&node.version)
        .bind(&node.host)
        .bind(node.pid)
        .bind(node.started_at)
        .bind(clock::now_ms())
        .bind(stopped_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}
