//! The overview: per queue, its jobs by state, the age of its oldest waiting job, whether it is
//! paused, and how many jobs finished and how many attempts failed in each bucket of a chart
//! window; the webhooks received, repeated and refused in that window; the nodes alive. And
//! pausing or resuming a queue.

use std::collections::BTreeMap;

use billhook_model::ChartWindow;

use super::{Actor, DashboardError, audit};
use crate::{
    db::{Db, Sql},
    jobs::pauses::{self, Pause},
    on_db,
};

/// One queue on the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSummary {
    pub queue: String,
    /// The job it carries.
    pub job: String,
    /// Jobs by apalis state (`Pending`, `Running`, ...); a state with none is absent.
    pub by_state: BTreeMap<String, i64>,
    /// When the oldest job waiting to run became due (unix seconds).
    pub oldest_waiting: Option<i64>,
    pub paused: Option<Pause>,
    /// Jobs finished, per bucket of the window, oldest bucket first.
    pub done: Vec<i64>,
    /// Failed attempts, per bucket.
    pub failed: Vec<i64>,
}

/// The webhooks of the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookSummary {
    /// Distinct events first received in the window, per bucket.
    pub received: Vec<i64>,
    /// Repeated deliveries of those events (Stripe's retries and duplicates).
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
}

const BY_STATE: Sql = Sql {
    sqlite: "SELECT job_type, status, COUNT(*) FROM Jobs GROUP BY job_type, status",
    postgres: "SELECT job_type, status, COUNT(*) FROM apalis.jobs GROUP BY job_type, status",
};

const OLDEST_WAITING: Sql = Sql {
    sqlite: "SELECT job_type, MIN(run_at) FROM Jobs WHERE status = 'Pending' GROUP BY job_type",
    postgres: "SELECT job_type, EXTRACT(EPOCH FROM MIN(run_at))::bigint FROM apalis.jobs \
               WHERE status = 'Pending' GROUP BY job_type",
};

/// Finished jobs per queue and bucket (`$1`: the window's start, unix s; `$2`: a bucket, s).
const DONE: Sql = Sql {
    sqlite: "SELECT job_type, (done_at - $1) / $2, COUNT(*) FROM Jobs \
             WHERE status = 'Done' AND done_at >= $1 GROUP BY 1, 2",
    postgres: "SELECT job_type, FLOOR((EXTRACT(EPOCH FROM done_at) - $1) / $2)::bigint, COUNT(*) FROM apalis.jobs \
               WHERE status = 'Done' AND done_at >= to_timestamp($1) GROUP BY 1, 2",
};

/// The overview of `window` ending at `now_ms`, for `queues` (queue, job) in that order.
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
    let (since_s, bucket_s) = (since / 1000, bucket_ms / 1000);

    let by_state: Vec<(String, String, i64)> =
        on_db!(db, pool => sqlx::query_as(db.sql(&BY_STATE)).fetch_all(pool).await)?;
    let oldest: Vec<(String, Option<i64>)> =
        on_db!(db, pool => sqlx::query_as(db.sql(&OLDEST_WAITING)).fetch_all(pool).await)?;
    let done: Vec<(String, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(db.sql(&DONE)).bind(since_s).bind(bucket_s).fetch_all(pool).await
    })?;
    let failed: Vec<(String, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT queue, (finished_at - $1) / $2, COUNT(*) FROM job_attempts WHERE finished_at >= $1 GROUP BY 1, 2",
        )
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(pool)
        .await
    })?;
    let paused = pauses::paused(db).await?;

    let buckets = window.buckets();
    let series = |rows: &[(String, i64, i64)], queue: &str| {
        let mut counts = vec![0; buckets];
        for (_, bucket, count) in rows.iter().filter(|(q, _, _)| q == queue) {
            if let Some(slot) = usize::try_from(*bucket).ok().and_then(|b| counts.get_mut(b)) {
                *slot += count;
            }
        }
        counts
    };
    let queues = queues
        .iter()
        .map(|(queue, job)| QueueSummary {
            queue: (*queue).to_owned(),
            job: (*job).to_owned(),
            by_state: by_state.iter().filter(|(q, _, _)| q == queue).map(|(_, s, n)| (s.clone(), *n)).collect(),
            oldest_waiting: oldest.iter().find(|(q, _)| q == queue).and_then(|(_, at)| *at),
            paused: paused.iter().find(|p| p.queue == *queue).cloned(),
            done: series(&done, queue),
            failed: series(&failed, queue),
        })
        .collect();

    let received: Vec<(i64, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT (received_at - $1) / $2, COUNT(*), CAST(COALESCE(SUM(delivery_count - 1), 0) AS BIGINT) FROM webhook_events \
             WHERE received_at >= $1 GROUP BY 1",
        )
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(pool)
        .await
    })?;
    let mut webhooks = WebhookSummary { received: vec![0; buckets], ..WebhookSummary::default() };
    for (bucket, count, duplicates) in received {
        if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| webhooks.received.get_mut(b)) {
            *slot += count;
        }
        webhooks.duplicates += duplicates;
    }
    webhooks.refused = super::refusals::by_reason(db, since).await?.iter().map(|(_, n)| n).sum();
    let nodes_alive = on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE heartbeat_at >= $1 AND stopped_at IS NULL")
            .bind(now_ms - alive_within_ms)
            .fetch_one(pool)
            .await
    })?;
    Ok(Overview { window, since, queues, webhooks, nodes_alive })
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
