//! Turns at SQLite's one write lock.
//!
//! SQLite lets one connection write at a time, and a connection that finds the lock taken waits
//! in a busy handler that sleeps and tries again, sleeping longer the longer it has waited. Under
//! a steady load a dozen writers - the webhook inbox, each queue's workers - play a lottery in
//! which a newcomer, trying often, beats a writer that has waited long: the soak of
//! docs/benchmarks.md (run 5) saw writes wait 1-1.8 s and the inbox give up after 2 s.
//!
//! So Billhook's own writers take turns, first come first served, one per database: every
//! transaction begun from a [`Db`](super::Db) (`BEGIN IMMEDIATE`, holding its turn until it
//! commits or rolls back), the inbox's batches and the job runner's status writes. A writer then
//! waits in line for the writers ahead of it, not for a lucky wake-up. apalis' own statements (a
//! few per job) do not take turns; they still meet the others in the busy handler, as rarely as
//! they write. PostgreSQL locks rows, not the database: it has no turns.

use std::{sync::Arc, time::Duration};

use sqlx::SqlitePool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The longest a writer waits for its turn: SQLite's own busy timeout, so a writer gives up no
/// sooner than it did before turns (a lock held that long means something is stuck).
pub const TURN_TIMEOUT: Duration = Duration::from_secs(5);

/// A SQLite pool and the turns of its writers; cheap to clone (clones share both).
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pool: SqlitePool,
    turns: Arc<Semaphore>,
}

/// The right to write until it is dropped.
#[derive(Debug)]
pub struct WriteTurn {
    _permit: Option<OwnedSemaphorePermit>,
}

impl SqliteDb {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool, turns: Arc::new(Semaphore::new(1)) }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Waits for this database's next write turn (fair: in the order asked), at most
    /// [`TURN_TIMEOUT`]; then fails as a busy SQLite would.
    pub async fn write_turn(&self) -> sqlx::Result<WriteTurn> {
        match tokio::time::timeout(TURN_TIMEOUT, self.turns.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(WriteTurn { _permit: Some(permit) }),
            // The semaphore is never closed.
            Ok(Err(_)) => Ok(WriteTurn::none()),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Begins a write transaction in turn: `BEGIN IMMEDIATE`, so it holds the write lock from
    /// the start and cannot fail on a write after a read, and its turn until it ends.
    pub async fn begin_write(&self) -> sqlx::Result<(sqlx::Transaction<'static, sqlx::Sqlite>, WriteTurn)> {
        let turn = self.write_turn().await?;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((tx, turn))
    }
}

impl WriteTurn {
    /// No turn to take (PostgreSQL).
    pub fn none() -> Self {
        Self { _permit: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writers_get_their_turns_in_the_order_they_asked() {
        let pool = SqlitePool::connect_lazy("sqlite::memory:").unwrap();
        let db = SqliteDb::new(pool);
        let first = db.write_turn().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 0..5 {
            let (db, order) = (db.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = db.write_turn().await.unwrap();
                order.lock().unwrap().push(n);
            }));
            // On this one-thread runtime the task just spawned runs until it waits for its turn
            // before the test goes on: each asks after the one before.
            tokio::task::yield_now().await;
        }
        assert!(order.lock().unwrap().is_empty(), "nobody writes while the first holds its turn");
        drop(first);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_not_given_within_the_timeout_fails_as_a_busy_database() {
        let pool = SqlitePool::connect_lazy("sqlite::memory:").unwrap();
        let db = SqliteDb::new(pool);
        let _held = db.write_turn().await.unwrap();
        let error = db.write_turn().await.unwrap_err();
        assert!(matches!(error, sqlx::Error::PoolTimedOut), "{error}");
    }
}
