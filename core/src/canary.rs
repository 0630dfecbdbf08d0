//! Canaries: a job that holds for a while and then leaves one effect (`jobs::Canary` runs
//! [`run`]). Operators send one with `billhook canary` to prove the queues work end to end; the
//! crash-recovery tests kill the node that holds one; the benchmark sends thousands with no hold.

use std::time::Duration;

pub use crate::jobs::Canary;
use crate::{
    clock,
    db::{Db, query_builder},
    jobs::{self, EnqueueError},
    on_db,
};

#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error("queueing canaries: {0}")]
    Enqueue(#[from] EnqueueError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Enqueues `canaries` in one transaction.
pub async fn enqueue(db: &Db, canaries: &[Canary]) -> Result<(), CanaryError> {
    let mut tx = db.begin().await?;
    jobs::enqueue(&mut tx, canaries).await?;
    Ok(tx.commit().await?)
}

/// How a set of canaries went.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub done: usize,
    /// Queue-to-done time of the canaries done, median and worst, in milliseconds.
    pub p50_ms: i64,
    pub max_ms: i64,
    /// Done canaries per second, from the first start to the last finish.
    pub per_second: f64,
    pub nodes: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "canaries done: {} | queued->done p50 {} ms, max {} ms | {:.0} jobs/s | by {}",
            self.done,
            self.p50_ms,
            self.max_ms,
            self.per_second,
            self.nodes.join(", ")
        )
    }
}

/// The state of canaries `ids` (done ones only).
pub async fn report(db: &Db, ids: &[String]) -> Result<Report, CanaryError> {
    let mut rows: Vec<(String, i64, i64)> = Vec::new();
    for chunk in ids.chunks(500) {
        let part: Vec<(String, i64, i64)> = on_db!(db, pool => {
            let mut qb = query_builder(pool, "SELECT node, enqueued_at, done_at FROM canary_effects WHERE canary_id IN (");
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.as_str());
            }
            qb.push(")");
            qb.build_query_as().fetch_all(pool).await
        })?;
        rows.extend(part);
    }
    let mut waits: Vec<i64> = rows.iter().map(|(_, queued, done)| done - queued).collect();
    waits.sort_unstable();
    let first_start: Option<i64> = if rows.is_empty() {
        None
    } else {
        on_db!(db, pool => {
            sqlx::query_scalar("SELECT MIN(started_at) FROM canary_runs WHERE started_at >= $1")
                .bind(rows.iter().map(|r| r.1).min().unwrap_or(0))
                .fetch_one(pool)
                .await
        })?
    };
    let last_done = rows.iter().map(|r| r.2).max();
    let per_second = match (first_start, last_done) {
        (Some(start), Some(end)) if end > start => rows.len() as f64 * 1000.0 / (end - start) as f64,
        _ => 0.0,
    };
    let mut nodes: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    nodes.sort();
    nodes.dedup();
    Ok(Report {
        done: rows.len(),
        p50_ms: waits.get(waits.len() / 2).copied().unwrap_or(0),
        max_ms: waits.last().copied().unwrap_or(0),
        per_second,
        nodes,
    })
}

/// When canary `id` took effect, and on which node.
pub async fn effect(db: &Db, id: &str) -> Result<Option<(String, i64, i64)>, CanaryError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as("SELECT node, enqueued_at, done_at FROM canary_effects WHERE canary_id = $1").bind(id).fetch_optional(pool).await
    })?)
}

/// Runs canary `canary` as attempt `attempt` on `node`: records the run, holds, then records the
/// finish and the (single) effect together. A canary that does not hold records its run when it
/// ends, with its effect: there is no moment between its start and its end to observe.
pub async fn run(db: &Db, canary: &Canary, node: &str, attempt: usize) -> Result<(), CanaryError> {
    let attempt = i64::try_from(attempt).unwrap_or(i64::MAX);
    let run = Run { canary, node, attempt };
    if canary.hold_ms == 0 {
        return run.end(db, Begun::Now).await;
    }
    on_db!(db, pool => {
        sqlx::query("INSERT INTO canary_runs (canary_id, node, attempt, started_at) VALUES ($1, $2, $3, $4)")
            .bind(&canary.id)
            .bind(node)
            .bind(attempt)
            .bind(clock::now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    tokio::time::sleep(Duration::from_millis(canary.hold_ms)).await;
    run.end(db, Begun::Recorded).await
}

/// One attempt of a canary on a node.
struct Run<'a> {
    canary: &'a Canary,
    node: &'a str,
    attempt: i64,
}

/// Whether the run's start is in `canary_runs` already.
#[derive(Clone, Copy, PartialEq)]
enum Begun {
    Recorded,
    Now,
}

impl Run<'_> {
    /// Records the run's end (and its start, if not yet) and the canary's effect, atomically.
    async fn end(&self, db: &Db, begun: Begun) -> Result<(), CanaryError> {
        const FINISH: &str =
            "UPDATE canary_runs SET finished_at = $4 WHERE canary_id = $1 AND node = $2 AND attempt = $3";
        const WHOLE: &str =
            "INSERT INTO canary_runs (canary_id, node, attempt, started_at, finished_at) VALUES ($1, $2, $3, $4, $4)";
        let run = if begun == Begun::Recorded { FINISH } else { WHOLE };
        let now = clock::now_ms();
        match db {
            // One statement, so one round trip and one commit: over TCP the round trips are what a
            // canary costs (docs/benchmarks.md).
            Db::Postgres(pool) => {
                let sql = format!(
                    "WITH run AS ({run}) INSERT INTO canary_effects (canary_id, node, enqueued_at, done_at) \
                     VALUES ($1, $2, $5, $4) ON CONFLICT (canary_id) DO NOTHING"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&self.canary.id)
                    .bind(self.node)
                    .bind(self.attempt)
                    .bind(now)
                    .bind(self.canary.enqueued_at_ms)
                    .execute(pool)
                    .await?;
            }
            // SQLite has no writing WITH; in-process, its round trips cost little.
            Db::Sqlite(sqlite) => {
                let mut tx = sqlite.pool().begin().await?;
                sqlx::query(run)
                    .bind(&self.canary.id)
                    .bind(self.node)
                    .bind(self.attempt)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO canary_effects (canary_id, node, enqueued_at, done_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (canary_id) DO NOTHING",
                )
                .bind(&self.canary.id)
                .bind(self.node)
                .bind(self.canary.enqueued_at_ms)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
