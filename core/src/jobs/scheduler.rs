//! The scheduler role: periodic jobs declared in one place with cron expressions, each tick run
//! ONCE across the cluster however many scheduler processes run. The tick key is deterministic
//! (schedule name, tick time): the process whose insert into `scheduler_ticks` succeeds runs the
//! tick; the others see the conflict and skip it. Every task is idempotent, so a tick lost to a
//! crash is made good by the next one.
//!
//! Each tick's outcome (finished when, the error) is written back to its row for the
//! dashboard. An operator's "run now" is a row in `schedule_requests`: the first scheduler to
//! claim it (within [`REQUEST_POLL`]) runs it as a tick of its own, once cluster-wide.

use std::{str::FromStr, sync::Arc, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::{
    clock,
    db::{Db, query_builder},
    on_db,
};

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
        next_tick(self.name, &self.cron, after)
    }
}

/// How often schedulers look for operators' "run now" requests.
pub const REQUEST_POLL: Duration = Duration::from_secs(1);

/// The next tick of cron expression `cron` (of schedule `name`) strictly after `after`.
pub fn next_tick(name: &str, cron: &str, after: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let schedule = cron::Schedule::from_str(cron).with_context(|| format!("schedule {name}: bad cron {cron:?}"))?;
    schedule.after(&after).next().with_context(|| format!("schedule {name} has no next tick"))
}

/// Claims tick `tick_ms` of `schedule` for `node`; true if this node is the one to run it.
pub async fn claim_tick(db: &Db, schedule: &str, tick_ms: i64, node: &str) -> sqlx::Result<bool> {
    record_tick(db, schedule, tick_ms, node, None).await
}

/// Inserts tick `tick_ms` of `schedule` run by `node` (for an operator: `requested_by`);
/// false if another node has it.
async fn record_tick(
    db: &Db,
    schedule: &str,
    tick_ms: i64,
    node: &str,
    requested_by: Option<&str>,
) -> sqlx::Result<bool> {
    let inserted = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO scheduler_ticks (schedule, tick_at, node, ran_at, requested_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (schedule, tick_at) DO NOTHING",
        )
        .bind(schedule)
        .bind(tick_ms)
        .bind(node)
        .bind(clock::now_ms())
        .bind(requested_by)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(inserted == 1)
}

/// Writes how tick `tick_ms` of `schedule` ended.
async fn finish_tick(db: &Db, schedule: &str, tick_ms: i64, error: Option<String>) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query("UPDATE scheduler_ticks SET finished_at = $1, error = $2 WHERE schedule = $3 AND tick_at = $4")
            .bind(clock::now_ms())
            .bind(error)
            .bind(schedule)
            .bind(tick_ms)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Claims for `node` every operator's request to run one of `names` now; returns each claimed
/// request's schedule and requester.
async fn claim_requests(db: &Db, names: &[&str], node: &str) -> sqlx::Result<Vec<(String, String)>> {
    on_db!(db, pool => {
        let mut query = query_builder(pool, "UPDATE schedule_requests SET claimed_by = ");
        query.push_bind(node).push(", claimed_at = ").push_bind(clock::now_ms());
        query.push(" WHERE claimed_by IS NULL AND schedule IN (");
        let mut list = query.separated(", ");
        for name in names {
            list.push_bind(*name);
        }
        query.push(") RETURNING schedule, requested_by");
        query.build_query_as().fetch_all(pool).await
    })
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
    let names: Vec<&str> = schedules.iter().map(|s| s.name).collect();
    let mut requests = tokio::time::interval(REQUEST_POLL);
    requests.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = tokio::task::JoinSet::new();
    loop {
        let (index, due) = next.iter().copied().enumerate().min_by_key(|(_, at)| *at).context("no schedules")?;
        let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
            _ = requests.tick() => {
                let claimed = claim_requests(&db, &names, &node).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not read the requested runs");
                    Vec::new()
                });
                for (name, requested_by) in claimed {
                    let Some(schedule) = schedules.iter().find(|s| s.name == name) else { continue };
                    // Cron ticks fall on whole seconds; a requested run never takes one's key.
                    let tick = match clock::now_ms() { ms if ms % 1000 == 0 => ms + 1, ms => ms };
                    match record_tick(&db, schedule.name, tick, &node, Some(&requested_by)).await {
                        Ok(true) => {
                            tracing::info!(schedule = schedule.name, %requested_by, "running a schedule on request");
                            running.spawn(run_tick(db.clone(), schedule.clone(), tick));
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(schedule = schedule.name, error = %e, "could not record a requested run"),
                    }
                }
                continue;
            }
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Err(e) = done { tracing::error!(error = %e, "a scheduled task panicked"); }
                continue;
            }
        }
        let schedule = schedules[index].clone();
        next[index] = schedule.next_after(due)?;
        match claim_tick(&db, schedule.name, due.timestamp_millis(), &node).await {
            Ok(true) => {
                running.spawn(run_tick(db.clone(), schedule, due.timestamp_millis()));
            }
            Ok(false) => tracing::trace!(schedule = schedule.name, "tick taken by another scheduler"),
            Err(e) => tracing::warn!(schedule = schedule.name, error = %e, "could not claim a tick; skipping it"),
        }
    }
    // Let running tasks finish (the caller bounds the wait with its shutdown timeout).
    while running.join_next().await.is_some() {}
    Ok(())
}

/// Runs tick `tick_ms` of `schedule`, claimed by this node, and writes how it ended.
async fn run_tick(db: Db, schedule: Schedule, tick_ms: i64) {
    let started = std::time::Instant::now();
    let outcome = (schedule.task)(db.clone()).await;
    match &outcome {
        Ok(()) => tracing::debug!(schedule = schedule.name, took = ?started.elapsed(), "scheduled task done"),
        Err(e) => tracing::error!(schedule = schedule.name, error = ?e, "scheduled task failed"),
    }
    let error = outcome.err().map(|e| format!("{e:#}"));
    if let Err(e) = finish_tick(&db, schedule.name, tick_ms, error).await {
        tracing::warn!(schedule = schedule.name, error = %e, "could not record how a tick ended");
    }
}
