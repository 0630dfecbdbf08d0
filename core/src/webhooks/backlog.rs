//! The processing backlog: events stored but not yet processed (received, queued or being
//! processed). A web node stores every delivery while the backlog is within its bound; above it,
//! the node answers new deliveries 503 - Stripe retries them with backoff for up to three days -
//! rather than let the backlog, and the time from an event to its effect, grow without end.
//! Repeated deliveries of stored events are refused too: the event is safe, and Stripe's retry
//! finds it stored.
//!
//! Each web node counts the backlog every [`BACKLOG_EVERY`] (a bounded read of the status index:
//! it stops one past the bound) and keeps the figure for its handlers, which only read it. It
//! counts only while there is something to see - a delivery came since the last count, or the
//! last count found a backlog - so an idle node with nothing waiting sends no query for it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::{db::Db, on_db};

/// How often a web node counts the backlog.
pub const BACKLOG_EVERY: Duration = Duration::from_secs(1);

/// The bound and the latest count; cheap to clone (the clones share the count).
#[derive(Debug, Clone)]
pub struct Backlog {
    /// 0: no bound (every delivery is stored, however far behind processing is).
    bound: i64,
    counted: Arc<AtomicI64>,
    /// A delivery came since the last count.
    arrived: Arc<AtomicBool>,
}

impl Backlog {
    pub fn new(bound: u64) -> Self {
        Self {
            bound: i64::try_from(bound).unwrap_or(i64::MAX),
            counted: Arc::new(AtomicI64::new(0)),
            arrived: Arc::new(AtomicBool::new(true)),
        }
    }

    /// A signed delivery came: whether it may be stored (the last count was within the bound).
    /// The next tick counts again.
    pub fn admits(&self) -> bool {
        self.arrived.store(true, Ordering::Relaxed);
        !self.is_over()
    }

    pub fn bound(&self) -> i64 {
        self.bound
    }

    /// The backlog at the last count (at most one past the bound).
    pub fn counted(&self) -> i64 {
        self.counted.load(Ordering::Relaxed)
    }

    /// Whether the last count was over the bound: deliveries are refused.
    pub fn is_over(&self) -> bool {
        self.bound > 0 && self.counted() > self.bound
    }

    /// Counts the backlog now, up to one past the bound.
    pub async fn count(&self, db: &Db) -> sqlx::Result<i64> {
        let limit = if self.bound > 0 { self.bound.saturating_add(1) } else { 1 };
        let counted = on_db!(db, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_events \
                 WHERE status IN ('received', 'queued', 'processing') LIMIT $1) AS backlog",
            )
            .bind(limit)
            .fetch_one(pool)
            .await
        })?;
        self.counted.store(counted, Ordering::Relaxed);
        Ok(counted)
    }

    /// Counts every [`BACKLOG_EVERY`] while a delivery came or a backlog was found, until
    /// `shutdown` (the gauge `webhook_backlog`); a failed count keeps the last figure. Without a
    /// bound there is nothing to watch.
    pub async fn watch_until(self, db: Db, shutdown: CancellationToken) {
        if self.bound <= 0 {
            return;
        }
        let (backlog, db) = (&self, &db);
        crate::periodic::every_until(BACKLOG_EVERY, shutdown, move |stopping| async move {
            let arrived = backlog.arrived.swap(false, Ordering::Relaxed);
            if stopping || (!arrived && backlog.counted() == 0) {
                return;
            }
            let was_over = backlog.is_over();
            match backlog.count(db).await {
                Ok(counted) => {
                    metrics::gauge!("webhook_backlog").set(counted as f64);
                    let over = backlog.is_over();
                    if over != was_over {
                        let bound = backlog.bound;
                        if over {
                            tracing::warn!(
                                bound,
                                "webhook backlog over its bound: new deliveries are refused with 503"
                            );
                        } else {
                            tracing::info!(bound, "webhook backlog back within its bound: deliveries are stored again");
                        }
                    }
                }
                Err(error) => {
                    backlog.arrived.store(true, Ordering::Relaxed); // count again at the next tick
                    tracing::warn!(%error, "could not count the webhook backlog");
                }
            }
        })
        .await;
    }
}
