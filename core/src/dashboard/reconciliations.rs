//! The reconciliation pages: every recorded Stripe reconciliation run (see
//! [`crate::events::reconcile`]), newest first, with the node whose scheduler ran it; and one
//! run with the events it stored.

use super::DashboardError;
use crate::{db::Db, on_db};

/// One run: every column `stripe_reconciliations` has, and the node that ran it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReconciliationRow {
    pub id: i64,
    /// Unix ms.
    pub started_at: i64,
    pub finished_at: i64,
    /// Unix seconds: events created at or after this were listed.
    pub since: i64,
    /// Events Stripe listed.
    pub listed: i64,
    /// Events stored by the run (the endpoint had not received them).
    pub filled: i64,
    /// Why the run stopped; None: it listed everything.
    pub error: Option<String>,
    /// The node whose scheduler ran it: not in the run's row, but in the tick of the
    /// reconciliation schedule that spans the run (None: run outside the scheduler).
    pub node: Option<String>,
}

/// The reconciliation's schedule (its name in `jobs::housekeeping`, which `scheduler_ticks` keeps).
const SCHEDULE: &str = "stripe_reconcile";

/// `$where` appended to the one column list; `$1` is [`SCHEDULE`].
macro_rules! select_runs {
    ($where:literal) => {
        concat!(
            "SELECT r.id AS id, r.started_at AS started_at, r.finished_at AS finished_at, r.since AS since, ",
            "r.listed AS listed, r.filled AS filled, r.error AS error, ",
            "(SELECT t.node FROM scheduler_ticks t WHERE t.schedule = $1 AND t.ran_at <= r.started_at ",
            "AND (t.finished_at IS NULL OR t.finished_at >= r.finished_at) ORDER BY t.ran_at DESC LIMIT 1) AS node ",
            "FROM stripe_reconciliations r ",
            $where
        )
    };
}

/// How many runs the list shows (a day of them at the default quarter-hourly schedule).
pub const RUNS_SHOWN: i64 = 100;

/// The newest [`RUNS_SHOWN`] runs, newest first.
pub async fn list(db: &Db) -> Result<Vec<ReconciliationRow>, DashboardError> {
    let sql = select_runs!("ORDER BY r.started_at DESC, r.id DESC LIMIT $2");
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(SCHEDULE).bind(RUNS_SHOWN).fetch_all(pool).await)?)
}

/// Run `id`, if it exists.
pub async fn get(db: &Db, id: i64) -> Result<Option<ReconciliationRow>, DashboardError> {
    let sql = select_runs!("WHERE r.id = $2");
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(SCHEDULE).bind(id).fetch_optional(pool).await)?)
}

/// How many filled events the detail lists.
pub const EVENTS_SHOWN: i64 = 100;

/// The events reconciliation stored while `run` ran: `(id, type)`, oldest first. The run row does
/// not name them, so they are found by time: stored by reconciliation within the run's span.
/// Runs are a schedule's ticks, once each in the cluster, and seldom overlap (an operator's "run
/// now" during a tick could): then an event may be listed under both runs.
pub async fn filled_events(db: &Db, run: &ReconciliationRow) -> Result<Vec<(String, String)>, DashboardError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, event_type FROM webhook_events \
             WHERE source = 'reconciliation' AND received_at >= $1 AND received_at <= $2 \
             ORDER BY received_at, id LIMIT $3",
        )
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(EVENTS_SHOWN)
        .fetch_all(pool)
        .await
    })?)
}
