//! Wake-ups instead of polling. A worker fetches when a job may be waiting for it:
//! - at once when this process commits jobs to its queue (SQLite: a commit hook,
//!   `crate::db::after_commit`);
//! - on PostgreSQL, when the database announces a job that any node inserted: apalis' trigger
//!   sends `NOTIFY "apalis::job::insert"` with the job's queue on commit, and one `LISTEN`
//!   connection per process ([`listen_until`]) passes it on;
//! - when a job this process failed is due to run again ([`wake_in`]);
//! - otherwise every `fallback` (another node's retry, a rescued job, a lost notification).
//!
//! The dispatcher of recorded Stripe events (`super::dispatch`) waits the same way under the name
//! `webhooks.dispatch`, which web nodes announce on this channel ([`announce`]).
//!
//! A wake-up starts one fetch; apalis keeps fetching while batches come back full, so a burst of
//! jobs needs only its first wake-up.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::Duration,
};

use futures::Stream;
use serde::Deserialize;
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{Tx, after_commit::after_commit};

/// The channel apalis' `notify_new_jobs` trigger announces new jobs on.
const CHANNEL: &str = "apalis::job::insert";

/// One signal per queue, shared by every worker of this process.
static QUEUES: LazyLock<Mutex<HashMap<String, Arc<Notify>>>> = LazyLock::new(Mutex::default);

fn signal(queue: &str) -> Arc<Notify> {
    let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
    match queues.get(queue) {
        Some(signal) => signal.clone(),
        None => queues.entry(queue.to_owned()).or_default().clone(),
    }
}

/// Wakes this process's worker of `queue`; if it is busy (or not started), its next wait ends at
/// once. Wake-ups that arrive together count as one.
pub fn wake(queue: &str) {
    signal(queue).notify_one();
}

/// Wakes this process's worker of `queue` after `delay`: when a job it failed is due again.
/// Should the process end first, another node's fallback poll finds the job.
pub fn wake_in(queue: &'static str, delay: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        wake(queue);
    });
}

/// What the worker of `queue` waits on between fetches: a wake-up, or `fallback` since the last.
pub(super) fn ticks(queue: &str, fallback: Duration) -> Pin<Box<dyn Stream<Item = ()> + Send>> {
    Box::pin(futures::stream::unfold(signal(queue), move |signal| async move {
        // Elapsed or woken: either way a fetch.
        let _ = tokio::time::timeout(fallback, signal.notified()).await;
        Some(((), signal))
    }))
}

/// Wakes the workers of every queue on every node once `tx` commits: for jobs an update made
/// runnable (an operator's retry), which apalis' insert trigger does not announce.
pub async fn wake_all_after_commit(tx: &mut Tx) -> sqlx::Result<()> {
    match tx {
        Tx::Sqlite(tx) => after_commit(tx, wake_all).await,
        Tx::Postgres(tx) => notify(&mut **tx, EVERY_QUEUE).await,
    }
}

/// PostgreSQL: wakes whatever waits under `name` on every node (a queue's workers, or the
/// dispatchers), with a `NOTIFY` of its own - not inside a writing transaction, whose commit it
/// would serialise with every other notifying commit (PostgreSQL holds a database-wide lock from
/// such a commit's start until it is durable).
pub async fn announce(pool: &PgPool, name: &str) -> sqlx::Result<()> {
    notify(pool, name).await
}

async fn notify<'c>(on: impl sqlx::PgExecutor<'c>, name: &str) -> sqlx::Result<()> {
    let announcement = serde_json::json!({ "job_type": name }).to_string();
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(announcement).execute(on).await.map(drop)
}

/// The queue name an announcement for every queue carries (no queue has it).
const EVERY_QUEUE: &str = "*";

#[derive(Deserialize)]
struct Announcement {
    job_type: String,
}

/// PostgreSQL: listens for the jobs any node inserts until `shutdown`, waking this process's
/// workers of their queues. Reconnects after a lost connection (meanwhile the fallback polls).
pub async fn listen_until(pool: PgPool, shutdown: CancellationToken) {
    let mut retry = Duration::from_millis(100);
    while !shutdown.is_cancelled() {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            () = shutdown.cancelled() => return,
            listener = listener => match listener {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for new jobs; polling meanwhile");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(Duration::from_secs(10));
                    continue;
                }
            },
        };
        retry = Duration::from_millis(100);
        loop {
            let notification = tokio::select! {
                () = shutdown.cancelled() => return,
                notification = listener.try_recv() => notification,
            };
            match notification {
                Ok(Some(notification)) => match serde_json::from_str::<Announcement>(notification.payload()) {
                    Ok(announced) if announced.job_type == EVERY_QUEUE => wake_all(),
                    Ok(announced) => wake(&announced.job_type),
                    Err(error) => {
                        tracing::debug!(%error, payload = notification.payload(), "unexpected job announcement")
                    }
                },
                // The connection was lost (notifications meanwhile too): every queue fetches.
                Ok(None) => {
                    tracing::warn!("lost the connection listening for new jobs; reconnecting");
                    wake_all();
                }
                Err(error) => {
                    tracing::warn!(%error, "listening for new jobs failed; reconnecting");
                    wake_all();
                    break;
                }
            }
        }
    }
}

fn wake_all() {
    for signal in QUEUES.lock().unwrap_or_else(PoisonError::into_inner).values() {
        signal.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_worker_waits_for_a_wake_up_or_the_fallback() {
        let fallback = Duration::from_secs(60);
        let mut ticks = ticks("wakeups-test", fallback);
        let started = tokio::time::Instant::now();
        ticks.next().await;
        assert_eq!(started.elapsed(), fallback, "nothing announced: the fallback");

        let started = tokio::time::Instant::now();
        wake("wakeups-test");
        wake("wakeups-test");
        ticks.next().await;
        assert_eq!(started.elapsed(), Duration::ZERO, "woken at once");
        ticks.next().await;
        assert_eq!(started.elapsed(), fallback, "two wake-ups before a wait count as one");

        wake("another-queue");
        let started = tokio::time::Instant::now();
        ticks.next().await;
        assert_eq!(started.elapsed(), fallback, "another queue's wake-up is not this one's");
    }
}
