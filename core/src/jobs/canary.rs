//! Canary jobs: a job that holds for a while and then leaves one effect. Operators send one with
//! `billhook canary` to prove the queues work end to end; the crash-recovery tests kill the node
//! that holds one; the benchmark sends thousands with no hold.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{NewJob, enqueue_in_tx, queues};
use crate::{clock, db::Db, on_db};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    pub id: String,
    /// Work time, in milliseconds.
    pub hold_ms: u64,
    pub enqueued_at_ms: i64,
}

impl Canary {
    pub fn new(hold: Duration) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            hold_ms: u64::try_from(hold.as_millis()).unwrap_or(u64::MAX),
            enqueued_at_ms: clock::now_ms(),
        }
    }

    fn job(&self) -> NewJob {
        NewJob {
            queue: queues::SYSTEM_CANARY,
            args: serde_json::to_vec(self).expect("serialisable"),
            max_attempts: queues::CANARY_MAX_ATTEMPTS,
        }
    }
}

/// Enqueues `canaries` in one transaction.
pub async fn enqueue(db: &Db, canaries: &[Canary]) -> anyhow::Result<()> {
    let jobs: Vec<NewJob> = canaries.iter().map(Canary::job).collect();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        enqueue_in_tx(&mut *tx, jobs).await?;
        tx.commit().await?;
        anyhow::Ok(())
    })
}

/// When canary `id` took effect, and on which node.
pub async fn effect(db: &Db, id: &str) -> sqlx::Result<Option<(String, i64, i64)>> {
    on_db!(db, pool => {
        sqlx::query_as("SELECT node, enqueued_at, done_at FROM canary_effects WHERE canary_id = $1").bind(id).fetch_optional(pool).await
    })
}

/// Runs canary `canary` as attempt `attempt` on `node`: records the run, holds, then records the
/// finish and the (single) effect together.
pub(super) async fn run(db: &Db, canary: &Canary, node: &str, attempt: usize) -> sqlx::Result<()> {
    let attempt = i64::try_from(attempt).unwrap_or(i64::MAX);
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
    if canary.hold_ms > 0 {
        tokio::time::sleep(Duration::from_millis(canary.hold_ms)).await;
    }
    let now = clock::now_ms();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE canary_runs SET finished_at = $4 WHERE canary_id = $1 AND node = $2 AND attempt = $3")
            .bind(&canary.id)
            .bind(node)
            .bind(attempt)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO canary_effects (canary_id, node, enqueued_at, done_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (canary_id) DO NOTHING",
        )
        .bind(&canary.id)
        .bind(node)
        .bind(canary.enqueued_at_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
}
