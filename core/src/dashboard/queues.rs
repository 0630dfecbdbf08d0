//! The overview: per queue, how many of its jobs wait, run, retry and are dead (counted up to
//! [`COUNT_CAP`] each: a bounded read however long the queue), since when its oldest waiting job
//! is due, whether it is paused, and the jobs finished and attempts failed in each bucket of a
//! chart window; the webhooks received, repeated and refused in that window; the nodes alive.
//! The charts read the per-minute counts the nodes write (`crate::activity`), never the jobs or
//! events themselves, so a week of a million jobs is a few thousand rows. And pausing or
//! resuming a queue.

use billhook_model::ChartWindow;

use super::{Actor, DashboardError, audit};
use crate::{
    activity::{self, Activity},
    db::{Db, Sql},
    jobs::pauses::{self, Pause},
    on_db,
};

/// A state's count stops at this (and shows as "10,000+"): the read stays bounded.
pub const COUNT_CAP: i64 = 10_000;

/// The states the overview counts, in its columns' order.
pub const COUNTED_STATES: [&str; 5] = ["Pending", "Queued", "Running", "Failed", "Killed"];

/// One queue on the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSummary {
    pub queue: String,
    /// The job it carries.
    pub job: String,
    /// Jobs in each of [`COUNTED_STATES`], each at most `COUNT_CAP + 1`.
    pub by_state: [i64; 5],
    /// When the oldest job waiting to run became due (unix seconds).
    pub oldest_waiting: Option<i64>,
    pub paused: Option<Pause>,
    /// The live worker nodes that have paused their workers of it (all of them, once a pause
    /// has spread; some, while a resume spreads).
    pub paused_on: i64,
    /// Jobs finished, per bucket of the window, oldest bucket first.
    pub done: Vec<i64>,
    /// Failed attempts, per bucket.
    pub failed: Vec<i64>,
}

/// The webhooks of the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookSummary {
    /// Events stored for the first time, per bucket.
    pub received: Vec<i64>,
    /// Repeated deliveries of events already stored (Stripe's retries and duplicates).
    pub duplicates: i64,
    /// Deliveries refused (bad or missing signature, stale, too large, unusable), all nodes.
    pub refused: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub window: ChartWindow,
    /// Unix ms where the first bucket starts.
    pub since: i64,
    pub queues: Vec<QueueSummary>,
    pub webhooks: WebhookSummary,
    pub nodes_alive: i64,
    /// Live nodes that run workers.
    pub worker_nodes: i64,
}

/// One queue's counted states (capped, `$2`) and the due time of its oldest waiting job.
const QUEUE_STATE: Sql = Sql {
    sqlite: "SELECT \
               (SELECT COUNT(*) FROM (SELECT 1 FROM Jobs WHERE job_type = $1 AND status = 'Pending' LIMIT $2)), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM Jobs WHERE job_type = $1 AND status = 'Queued' LIMIT $2)), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM Jobs WHERE job_type = $1 AND status = 'Running' LIMIT $2)), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM Jobs WHERE job_type = $1 AND status = 'Failed' LIMIT $2)), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM Jobs WHERE job_type = $1 AND status = 'Killed' LIMIT $2)), \
               (SELECT MIN(run_at) FROM Jobs WHERE job_type = $1 AND status = 'Pending')",
    postgres: "SELECT \
               (SELECT COUNT(*) FROM (SELECT 1 FROM apalis.jobs WHERE job_type = $1 AND status = 'Pending' LIMIT $2) a), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM apalis.jobs WHERE job_type = $1 AND status = 'Queued' LIMIT $2) b), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM apalis.jobs WHERE job_type = $1 AND status = 'Running' LIMIT $2) c), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM apalis.jobs WHERE job_type = $1 AND status = 'Failed' LIMIT $2) d), \
               (SELECT COUNT(*) FROM (SELECT 1 FROM apalis.jobs WHERE job_type = $1 AND status = 'Killed' LIMIT $2) e), \
               (SELECT EXTRACT(EPOCH FROM MIN(run_at))::bigint FROM apalis.jobs WHERE job_type = $1 AND status = 'Pending')",
};

type QueueState = (i64, i64, i64, i64, i64, Option<i64>);

/// The overview of `window` ending at `now_ms`, for `queues` (queue, job) in that order; a node
/// is alive if it beat within `alive_within_ms`.
pub async fn overview(
    db: &Db,
    queues: &[(&str, &str)],
    window: ChartWindow,
    now_ms: i64,
    alive_within_ms: i64,
) -> Result<Overview, DashboardError> {
    let bucket_ms = window.bucket_ms();
    // Buckets end at the next whole bucket after now, so a bucket's edges do not move.
    let end = (now_ms / bucket_ms + 1) * bucket_ms;
    let since = end - window.span_ms();
    let buckets = window.buckets();
    let series = |rows: &[(String, i64, i64)], label: &str| {
        let mut counts = vec![0; buckets];
        for (_, bucket, count) in rows.iter().filter(|(l, _, _)| l == label) {
            if let Some(slot) = usize::try_from(*bucket).ok().and_then(|b| counts.get_mut(b)) {
                *slot += count;
            }
        }
        counts
    };

    let done = activity::per_bucket(db, Activity::JobDone, since, bucket_ms).await?;
    let failed = activity::per_bucket(db, Activity::JobFailed, since, bucket_ms).await?;
    let paused = pauses::paused(db).await?;
    let alive_since = now_ms - alive_within_ms;
    // Each live worker node's paused queues, as it wrote them (none yet: nothing paused).
    let applied: Vec<String> = on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT COALESCE(paused_queues, '') FROM nodes \
             WHERE heartbeat_at >= $1 AND stopped_at IS NULL AND ',' || roles || ',' LIKE '%,worker,%'",
        )
        .bind(alive_since)
        .fetch_all(pool)
        .await
    })?;
    let mut summaries = Vec::with_capacity(queues.len());
    for (queue, job) in queues {
        let state: QueueState = on_db!(db, pool => {
            sqlx::query_as(db.sql(&QUEUE_STATE)).bind(*queue).bind(COUNT_CAP + 1).fetch_one(pool).await
        })?;
        summaries.push(QueueSummary {
            queue: (*queue).to_owned(),
            job: (*job).to_owned(),
            by_state: [state.0, state.1, state.2, state.3, state.4],
            oldest_waiting: state.5,
            paused: paused.iter().find(|p| p.queue == *queue).cloned(),
            paused_on: pauses::paused_on(&applied, queue),
            done: series(&done, queue),
            failed: series(&failed, queue),
        });
    }

    let received = activity::per_bucket(db, Activity::WebhookReceived, since, bucket_ms).await?;
    let repeated = activity::per_bucket(db, Activity::WebhookRepeated, since, bucket_ms).await?;
    let webhooks = WebhookSummary {
        received: series(&received, ""),
        duplicates: repeated.iter().map(|(_, _, n)| n).sum(),
        refused: super::refusals::by_reason(db, since).await?.iter().map(|(_, n)| n).sum(),
    };
    let nodes_alive = on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE heartbeat_at >= $1 AND stopped_at IS NULL")
            .bind(alive_since)
            .fetch_one(pool)
            .await
    })?;
    let worker_nodes = i64::try_from(applied.len()).unwrap_or(i64::MAX);
    Ok(Overview { window, since, queues: summaries, webhooks, nodes_alive, worker_nodes })
}
/// Pauses (`pause`) or resumes `queue`, one of `known`, for every node; recorded in the audit
/// log. A queue already in that state is [`DashboardError::WrongState`].
pub async fn set_paused(
    db: &Db,
    actor: &Actor,
    known: &[&str],
    queue: &str,
    pause: bool,
) -> Result<(), DashboardError> {
    if !known.contains(&queue) {
        return Err(DashboardError::NotFound("queue"));
    }
    let mut tx = db.begin().await?;
    if !pauses::set(&mut tx, queue, pause.then_some(actor.email.as_str())).await? {
        return Err(DashboardError::WrongState(if pause {
            "the queue is paused already"
        } else {
            "the queue is not paused"
        }));
    }
    let action = if pause { "queue.pause" } else { "queue.resume" };
    audit::record(&mut tx, actor, action, queue, 1).await?;
    tx.commit().await?;
    Ok(())
}
