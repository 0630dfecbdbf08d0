//! Paused queues. An operator pauses a queue in the dashboard (a row in `queue_pauses`); every
//! worker node reads the paused set every [`PAUSE_POLL`] and pauses or resumes its apalis
//! workers of that queue (apalis' own `WorkerContext::pause`: no new job is fetched), so within
//! seconds no node takes a job from it. Jobs already running finish; waiting jobs stay queued
//! until the queue is resumed. Each node writes the queues it has paused into its `nodes` row
//! when that changes, so the overview can tell a pause every node applied from one spreading.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use apalis::prelude::{Event, WorkerContext};
use tokio_util::sync::CancellationToken;

use crate::{
    clock,
    db::{Db, Tx},
    on_db, on_tx,
};

/// How often a worker node reads which queues are paused.
pub const PAUSE_POLL: Duration = Duration::from_secs(1);

/// One paused queue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pause {
    pub queue: String,
    /// Unix ms.
    pub paused_at: i64,
    /// The operator's e-mail.
    pub paused_by: String,
}

/// Every paused queue.
pub async fn paused(db: &Db) -> sqlx::Result<Vec<Pause>> {
    on_db!(db, pool => {
        sqlx::query_as("SELECT queue, paused_at, paused_by FROM queue_pauses ORDER BY queue").fetch_all(pool).await
    })
}

/// Pauses (`Some(operator)`) or resumes (`None`) `queue` inside `tx`; false when it already was.
pub async fn set(tx: &mut Tx, queue: &str, paused_by: Option<&str>) -> sqlx::Result<bool> {
    let changed = on_tx!(tx, conn => match paused_by {
        Some(by) => sqlx::query(
            "INSERT INTO queue_pauses (queue, paused_at, paused_by) VALUES ($1, $2, $3) ON CONFLICT (queue) DO NOTHING",
        )
        .bind(queue)
        .bind(clock::now_ms())
        .bind(by)
        .execute(conn)
        .await,
        None => sqlx::query("DELETE FROM queue_pauses WHERE queue = $1").bind(queue).execute(conn).await,
    }
    .map(|done| done.rows_affected()))?;
    Ok(changed == 1)
}

/// The queue a worker serves, from its name (`{queue}@{node}-{restarts}`, see `runner`).
pub(super) fn queue_of(worker: &str) -> &str {
    worker.split_once('@').map_or(worker, |(queue, _)| queue)
}

/// This node's running apalis workers and the queues last read as paused.
#[derive(Clone, Default)]
pub(super) struct LiveWorkers {
    inner: Arc<Mutex<Live>>,
}

#[derive(Default)]
struct Live {
    workers: Vec<WorkerContext>,
    paused: BTreeSet<String>,
}

impl LiveWorkers {
    /// Starts from the queues paused now, so that no worker of this node takes a job from one
    /// before the first poll.
    pub async fn starting(db: &Db) -> Self {
        let live = Self::default();
        match paused(db).await {
            Ok(pauses) => {
                live.apply(pauses.into_iter().map(|p| p.queue).collect());
            }
            Err(error) => tracing::warn!(%error, "could not read the paused queues"),
        }
        live
    }

    /// Follows a worker's life (the monitor's event handler): a worker that starts is held,
    /// and paused at once if its queue is; one that exits is let go.
    pub fn on_event(&self, worker: &WorkerContext, event: &Event) {
        let mut live = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::Start => {
                if live.paused.contains(queue_of(worker.name())) {
                    pause(worker);
                }
                live.workers.retain(|w| w.name() != worker.name());
                live.workers.push(worker.clone());
            }
            Event::Exit => live.workers.retain(|w| w.name() != worker.name()),
            _ => {}
        }
    }

    /// Pauses the workers of `paused` queues and resumes the others.
    fn apply(&self, paused: BTreeSet<String>) -> String {
        let mut live = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for worker in &live.workers {
            let wanted = paused.contains(queue_of(worker.name()));
            if wanted && worker.is_running() {
                pause(worker);
            } else if !wanted && worker.is_paused() {
                match worker.resume() {
                    Ok(()) => {
                        tracing::info!(worker = worker.name(), "queue resumed by an operator");
                        // Jobs queued meanwhile were announced to a paused worker: fetch now, not
                        // at the next fallback poll.
                        super::wakeups::wake(queue_of(worker.name()));
                    }
                    Err(error) => tracing::warn!(worker = worker.name(), %error, "could not resume a worker"),
                }
            }
        }
        let applied = paused.iter().map(String::as_str).collect::<Vec<_>>().join(",");
        live.paused = paused;
        applied
    }

    /// Reads the paused queues every [`PAUSE_POLL`] and applies them until `shutdown`; writes
    /// what this node applied (see [`note_applied`]) whenever it differs from what is written.
    pub async fn follow(self, db: Db, shutdown: CancellationToken) {
        let (live, db) = (&self, &db);
        let written: &Mutex<Option<String>> = &Mutex::new(None);
        crate::periodic::every_until(PAUSE_POLL, shutdown, move |stopping| async move {
            if stopping {
                return;
            }
            let applied = match paused(db).await {
                Ok(pauses) => live.apply(pauses.into_iter().map(|p| p.queue).collect()),
                // The last known state stands until the database answers again.
                Err(error) => {
                    tracing::warn!(%error, "could not read the paused queues");
                    return;
                }
            };
            if written.lock().unwrap_or_else(PoisonError::into_inner).as_deref() == Some(applied.as_str()) {
                return;
            }
            // Not written (yet: the node's row is made by its first heartbeat): tried again next poll.
            match note_applied(db, &super::node_name(), &applied).await {
                Ok(true) => *written.lock().unwrap_or_else(PoisonError::into_inner) = Some(applied),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "could not note the queues this node paused"),
            }
        })
        .await;
    }
}

/// Writes the queues node `node` has paused (comma-separated) into its row; false when it has
/// none yet.
async fn note_applied(db: &Db, node: &str, applied: &str) -> sqlx::Result<bool> {
    let updated = on_db!(db, pool => {
        sqlx::query("UPDATE nodes SET paused_queues = $1 WHERE name = $2")
            .bind(applied)
            .bind(node)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(updated == 1)
}

/// How many of the worker nodes in `applied` (each one's paused queues, as written) have paused
/// `queue`.
pub fn paused_on(applied: &[String], queue: &str) -> i64 {
    let count = applied.iter().filter(|queues| queues.split(',').any(|q| q == queue)).count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn pause(worker: &WorkerContext) {
    match worker.pause() {
        Ok(()) => tracing::info!(worker = worker.name(), "queue paused by an operator"),
        Err(error) => tracing::warn!(worker = worker.name(), %error, "could not pause a worker"),
    }
}

#[cfg(test)]
mod tests {
    use super::{paused_on, queue_of};

    #[test]
    fn a_workers_queue_is_read_from_its_name() {
        assert_eq!(queue_of("stripe.invoices@host-12-1764000000000-0"), "stripe.invoices");
        assert_eq!(queue_of("email"), "email");
    }

    #[test]
    fn a_pause_is_counted_on_the_nodes_that_wrote_its_queue() {
        let applied = ["email,stripe.invoices".to_owned(), String::new(), "email".to_owned(), "emails".to_owned()];
        assert_eq!(paused_on(&applied, "email"), 2);
        assert_eq!(paused_on(&applied, "stripe.invoices"), 1);
        assert_eq!(paused_on(&applied, "stripe"), 0);
    }
}
