//! The dispatcher: puts recorded Stripe events on their processing queues.
//!
//! The web role only records a delivery (`webhooks::inbox`: one row, status `received`) and
//! acknowledges it; every worker node runs a dispatcher that moves recorded events onto the
//! queue of their kind (`process_event`) - the founding design's "a webhook arrives, is recorded
//! in the database, and scheduled jobs run and add messages to the appropriate processing queue".
//! Acknowledging costs one row per delivery, and queueing is done in batches, off the path
//! Stripe waits on.
//!
//! Each pass claims up to [`BATCH`] `received` events and queues their jobs in the same
//! transaction, so an event is queued exactly once: a dispatcher that dies mid-pass rolls back
//! and leaves its events `received` for the next pass, anywhere; on PostgreSQL, dispatchers of
//! several nodes claim disjoint events (`FOR UPDATE SKIP LOCKED`). A dispatcher is woken when
//! events are recorded ([`Announcer`]) and otherwise looks every fallback interval; the
//! `dispatch_sweep` schedule is the last safety net.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{EnqueueError, ProcessEvent, wakeups};
use crate::{
    clock,
    db::{Db, Sql},
    on_tx,
};

/// The name the dispatchers are woken by (a wake-up "queue" no job uses).
pub const DISPATCH: &str = "webhooks.dispatch";

/// Most events one pass queues (one transaction); a full pass is followed by another at once.
pub const BATCH: i64 = 1000;

/// Why a pass failed (it queued nothing; the events stay `received`).
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("claiming recorded events: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
}

/// Claims `received` events (oldest first), marking them `queued`; returns their ids and types.
const CLAIM: Sql = Sql {
    sqlite: "UPDATE webhook_events SET status = 'queued', status_changed_at = $2 \
             WHERE status = 'received' AND id IN ( \
                 SELECT id FROM webhook_events WHERE status = 'received' AND received_at < $1 \
                 ORDER BY received_at LIMIT $3) \
             RETURNING id, event_type",
    postgres: "UPDATE webhook_events SET status = 'queued', status_changed_at = $2 \
               WHERE status = 'received' AND id IN ( \
                   SELECT id FROM webhook_events WHERE status = 'received' AND received_at < $1 \
                   ORDER BY received_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
               RETURNING id, event_type",
};

/// Queues up to `limit` events still `received` that were received before `received_before`
/// (unix ms), in one transaction; returns how many it took.
pub async fn queue_received(db: &Db, received_before: i64, limit: i64) -> Result<usize, DispatchError> {
    let mut tx = db.begin().await?;
    let sql = tx.sql(&CLAIM);
    let now = clock::now_ms();
    let claimed: Vec<(String, String)> = on_tx!(&mut tx, conn => {
        sqlx::query_as(sql).bind(received_before).bind(now).bind(limit).fetch_all(&mut *conn).await
    })?;
    let mut jobs = Vec::with_capacity(claimed.len());
    for (id, event_type) in &claimed {
        match ProcessEvent::for_event(id, event_type) {
            Some(job) => jobs.push(job),
            // Stored by a path that did not look at the type (the inbox marks these itself).
            None => {
                on_tx!(&mut tx, conn => {
                    sqlx::query("UPDATE webhook_events SET status = 'ignored' WHERE id = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map(drop)
                })?;
            }
        }
    }
    super::enqueue(&mut tx, &jobs).await?;
    tx.commit().await?;
    Ok(claimed.len())
}

/// Queues every event still `received` that was received before `received_before` (unix ms),
/// [`BATCH`] a transaction, until a pass comes back short; returns how many it queued. A failed
/// pass ends it (what the passes before it queued stays queued).
pub async fn queue_all_received(db: &Db, received_before: i64) -> Result<usize, DispatchError> {
    let mut queued = 0;
    loop {
        let n = queue_received(db, received_before, BATCH).await?;
        queued += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < BATCH {
            return Ok(queued);
        }
    }
}

/// Tells the dispatchers that events were recorded: on SQLite this process's (an in-process
/// wake-up; another process's finds them at its next fallback look), on PostgreSQL every node's
/// (a `NOTIFY`, sent by a task of its own after the events committed and off the path of the
/// deliveries; announcements made while one is being sent are folded into the next). The task
/// starts with the first announcement - only a process that records events runs one - and ends
/// with the last clone of the announcer.
#[derive(Debug, Clone)]
pub struct Announcer {
    /// PostgreSQL: the pool to announce on and the announcing task's doorbell (room for one
    /// pending announcement), rung first by [`Announcer::announce`].
    postgres: Option<(sqlx::PgPool, Arc<OnceLock<mpsc::Sender<()>>>)>,
}

impl Announcer {
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Postgres(pool) => Self { postgres: Some((pool.clone(), Arc::default())) },
            Db::Sqlite(_) => Self { postgres: None },
        }
    }

    /// Events were recorded (and committed). On PostgreSQL, call it within a Tokio runtime.
    pub fn announce(&self) {
        let Some((pool, doorbell)) = &self.postgres else { return wakeups::wake(DISPATCH) };
        let doorbell = doorbell.get_or_init(|| {
            let (tx, mut rx) = mpsc::channel(1);
            let pool = pool.clone();
            tokio::spawn(async move {
                while rx.recv().await.is_some() {
                    if let Err(error) = wakeups::announce(&pool, DISPATCH).await {
                        tracing::warn!(%error, "announcing recorded events failed; the dispatchers' next look finds them");
                    }
                }
            });
            tx
        });
        // Full: an announcement is already pending, and it will cover these events too.
        let _ = doorbell.try_send(());
    }
}

/// Dispatches until `shutdown`: all that is recorded, then again on each wake-up or after
/// `fallback`. A failed pass is logged and tried again after `fallback` (or a wake-up).
pub async fn run_until(db: Db, fallback: Duration, shutdown: CancellationToken) {
    let mut ticks = wakeups::ticks(DISPATCH, fallback);
    loop {
        if let Err(error) = queue_all_received(&db, i64::MAX).await {
            tracing::warn!(%error, "queueing recorded events failed; trying again shortly");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.next() => {}
        }
    }
}
