//! The scheduler role: periodic jobs declared in one place with cron expressions, each tick run
//! ONCE across the cluster however many scheduler processes run. The tick key is deterministic
//! (schedule name, tick time): the process whose insert into `scheduler_ticks` succeeds runs the
//! tick; the others see the conflict and skip it. Every task is idempotent, so a tick lost to a
//! crash is made good by the next one.

use std::{str::FromStr, sync::Arc, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::{clock, db::Db, on_db};

/// A periodic task: runs with the database, must be idempotent.
pub type Task = Arc<dyn Fn(Db) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// A named cron schedule (seconds field first: `sec min hour day-of-month month day-of-week`).
#[derive(Clone)]
pub struct Schedule {
    pub name: &'static str,
    pub cron: std::borrow::Cow<'static, str>,
    pub task: Task,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedule").field("name", &self.name).field("cron", &self.cron).finish()
    }
}

impl Schedule {
    pub fn new<F, Fut>(name: &'static str, cron: &'static str, task: F) -> Self
    where
        F: Fn(Db) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self { name, cron: cron.into(), task: Arc::new(move |db| Box::pin(task(db))) }
    }

    /// The next tick strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
        let schedule = cron::Schedule::from_str(&self.cron)
            .with_context(|| format!("schedule {}: bad cron {:?}", self.name, self.cron))?;
        schedule.after(&after).next().with_context(|| format!("schedule {} has no next tick", self.name))
    }
}

/// Claims tick `tick_ms` of `schedule` for `node`; true if this node is the one to run it.
pub async fn claim_tick(db: &Db, schedule: &str, tick_ms: i64, node: &str) -> sqlx::Result<bool> {
    let inserted = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO scheduler_ticks (schedule, tick_at, node, ran_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (schedule, tick_at) DO NOTHING",
        )
        .bind(schedule)
        .bind(tick_ms)
        .bind(node)
        .bind(clock::now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(inserted == 1)
}

/// Runs `schedules` until `shutdown`. `node` names this process in `scheduler_ticks`.
pub async fn run_scheduler(
    db: Db,
    schedules: Vec<Schedule>,
    node: String,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Validate every expression up front: a typo is a start-up error, not a silent no-op.
    let mut next: Vec<DateTime<Utc>> =
        schedules.iter().map(|s| s.next_after(Utc::now())).collect::<anyhow::Result<_>>()?;
    let mut running = tokio::task::JoinSet::new();
    loop {
        let (index, due) = next.iter().copied().enumerate().min_by_key(|(_, at)| *at).context("no schedules")?;
        let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Err(e) = done { tracing::error!(error = %e, "a scheduled task panicked"); }
                continue;
            }
        }
        let schedule = schedules[index].clone();
        next[index] = schedule.next_after(due)?;
        match claim_tick(&db, schedule.name, due.timestamp_millis(), &node).await {
            Ok(true) => {
                let db = db.clone();
                running.spawn(async move {
                    let started = std::time::Instant::now();
                    match (schedule.task)(db).await {
                        Ok(()) => {
                            tracing::debug!(schedule = schedule.name, took = ?started.elapsed(), "scheduled task done")
                        }
                        Err(e) => tracing::error!(schedule = schedule.name, error = ?e, "scheduled task failed"),
                    }
                });
            }
            Ok(false) => tracing::trace!(schedule = schedule.name, "tick taken by another scheduler"),
            Err(e) => tracing::warn!(schedule = schedule.name, error = %e, "could not claim a tick; skipping it"),
        }
    }
    // Let running tasks finish (the caller bounds the wait with its shutdown timeout).
    while running.join_next().await.is_some() {}
    Ok(())
}
