//! The schedules page: each periodic job with its cron expression, its next tick, its last runs
//! and how they ended; and "run now", a request the first scheduler to see it runs once.

use super::{Actor, DashboardError, audit};
use crate::{clock, db::Db, jobs::scheduler::next_tick, on_db, on_tx};

/// A schedule as the cluster runs it (its cron expression after the configuration's overrides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSpec {
    pub name: String,
    pub cron: String,
}

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TickRow {
    /// The tick's time (unix ms).
    pub tick_at: i64,
    pub node: String,
    pub ran_at: i64,
    /// None: still running, or the node died running it.
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    /// The operator who asked for it; None: the cron expression.
    pub requested_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub spec: ScheduleSpec,
    /// Unix ms; None if the expression has no future tick.
    pub next_at: Option<i64>,
    /// Newest first.
    pub last_runs: Vec<TickRow>,
    /// When an operator asked for a run that no scheduler has taken yet.
    pub requested_at: Option<i64>,
}

/// How many past runs the page shows per schedule.
pub const LAST_RUNS: i64 = 5;

/// Every schedule of `specs` with its next tick after `now_ms` and its last runs.
pub async fn list(db: &Db, specs: &[ScheduleSpec], now_ms: i64) -> Result<Vec<ScheduleRow>, DashboardError> {
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    let mut rows = Vec::with_capacity(specs.len());
    for spec in specs {
        let last_runs: Vec<TickRow> = on_db!(db, pool => {
            sqlx::query_as(
                "SELECT tick_at, node, ran_at, finished_at, error, requested_by FROM scheduler_ticks \
                 WHERE schedule = $1 ORDER BY ran_at DESC LIMIT $2",
            )
            .bind(&spec.name)
            .bind(LAST_RUNS)
            .fetch_all(pool)
            .await
        })?;
        let requested_at: Option<i64> = on_db!(db, pool => {
            sqlx::query_scalar(
                "SELECT MIN(requested_at) FROM schedule_requests WHERE claimed_by IS NULL AND schedule = $1",
            )
            .bind(&spec.name)
            .fetch_one(pool)
            .await
        })?;
        let next_at = next_tick(&spec.name, &spec.cron, now).ok().map(|at| at.timestamp_millis());
        rows.push(ScheduleRow { spec: spec.clone(), next_at, last_runs, requested_at });
    }
    Ok(rows)
}

/// Asks the schedulers to run schedule `name` (one of `specs`) now, once; recorded in the audit
/// log. A run already asked for and not yet taken is [`DashboardError::WrongState`].
pub async fn run_now(db: &Db, actor: &Actor, specs: &[ScheduleSpec], name: &str) -> Result<(), DashboardError> {
    if !specs.iter().any(|s| s.name == name) {
        return Err(DashboardError::NotFound("schedule"));
    }
    let mut tx = db.begin().await?;
    let waiting: i64 = on_tx!(&mut tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM schedule_requests WHERE claimed_by IS NULL AND schedule = $1")
            .bind(name)
            .fetch_one(conn)
            .await
    })?;
    if waiting > 0 {
        return Err(DashboardError::WrongState("a run is already requested and waits for a scheduler"));
    }
    on_tx!(&mut tx, conn => {
        sqlx::query("INSERT INTO schedule_requests (schedule, requested_at, requested_by) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(clock::now_ms())
            .bind(&actor.email)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    audit::record(&mut tx, actor, "schedule.run_now", name, 1).await?;
    tx.commit().await?;
    Ok(())
}
