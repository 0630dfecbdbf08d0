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

use std::{
    panic::Location,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use sqlx::SqlitePool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The longest a writer waits for its turn: SQLite's own busy timeout, so a writer gives up no
/// sooner than it did before turns (a lock held that long means something is stuck).
pub const TURN_TIMEOUT: Duration = Duration::from_secs(5);

/// A turn held longer than this is logged with the code that took it: every writer behind it
/// waited that long.
const LONG_TURN: Duration = Duration::from_secs(1);

/// A SQLite pool and the turns of its writers; cheap to clone (clones share all).
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pool: SqlitePool,
    turns: Arc<Semaphore>,
    holder: Arc<Mutex<Option<Holder>>>,
}

/// Who holds the turn: the code that asked for it, and since when.
#[derive(Debug, Clone, Copy)]
struct Holder {
    at: &'static Location<'static>,
    since: Instant,
}

/// The right to write until it is dropped.
#[derive(Debug)]
pub struct WriteTurn {
    held: Option<Held>,
}

#[derive(Debug)]
struct Held {
    holder: Arc<Mutex<Option<Holder>>>,
    // Dropped after `WriteTurn::drop` has cleared the holder.
    _permit: OwnedSemaphorePermit,
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        let Some(held) = &self.held else { return };
        let holder = held.holder.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(Holder { at, since }) = holder
            && since.elapsed() > LONG_TURN
        {
            let held_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::warn!(held_ms, taken_at = %at, "a SQLite write turn was held long; writers behind it waited");
        }
    }
}

impl SqliteDb {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool, turns: Arc::new(Semaphore::new(1)), holder: Arc::default() }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Waits for this database's next write turn (fair: in the order asked), at most
    /// [`TURN_TIMEOUT`]; then fails as a busy SQLite would, logging who holds the turn.
    #[track_caller]
    pub fn write_turn(&self) -> impl Future<Output = sqlx::Result<WriteTurn>> + Send + '_ {
        self.write_turn_for(Location::caller())
    }

    async fn write_turn_for(&self, at: &'static Location<'static>) -> sqlx::Result<WriteTurn> {
        match tokio::time::timeout(TURN_TIMEOUT, self.turns.clone().acquire_owned()).await {
            Ok(Ok(permit)) => {
                *self.holder.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Holder { at, since: Instant::now() });
                Ok(WriteTurn { held: Some(Held { holder: self.holder.clone(), _permit: permit }) })
            }
            // The semaphore is never closed.
            Ok(Err(_)) => Ok(WriteTurn::none()),
            Err(_) => {
                let holder = *self.holder.lock().unwrap_or_else(PoisonError::into_inner);
                match holder {
                    Some(Holder { at: held_at, since }) => tracing::error!(
                        asked_at = %at,
                        held_at = %held_at,
                        held_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
                        "no SQLite write turn within {TURN_TIMEOUT:?}: another writer holds it"
                    ),
                    None => tracing::error!(asked_at = %at, "no SQLite write turn within {TURN_TIMEOUT:?}"),
                }
                Err(sqlx::Error::PoolTimedOut)
            }
        }
    }

    /// Begins a write transaction in turn: `BEGIN IMMEDIATE`, so it holds the write lock from
    /// the start and cannot fail on a write after a read, and its turn until it ends. `at` is
    /// the code that asked (logged if the turn is held long).
    pub async fn begin_write(
        &self,
        at: &'static Location<'static>,
    ) -> sqlx::Result<(sqlx::Transaction<'static, sqlx::Sqlite>, WriteTurn)> {
        let turn = self.write_turn_for(at).await?;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((tx, turn))
    }
}

impl WriteTurn {
    /// No turn to take (PostgreSQL).
    pub fn none() -> Self {
        Self { held: None }
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

    /// A write transaction given up at any point - waiting for its turn, at `BEGIN IMMEDIATE`,
    /// mid-statement, registering commit work, committing - leaves neither SQLite's write lock
    /// nor its turn behind: a request timeout or the inbox's write timeout does exactly this.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn transactions_given_up_at_any_point_leave_no_lock_or_turn_behind() {
        use std::sync::atomic::{AtomicU64, Ordering};

        use crate::db::{Db, PoolOptions, Tx, after_commit};

        let dir = std::env::temp_dir().join(format!("billhook-turns-{}-{}", std::process::id(), rand::random::<u64>()));
        let url = format!("sqlite://{}/turns.db", dir.display());
        let db = Db::connect(&url, &PoolOptions::default()).await.unwrap();
        let Db::Sqlite(sqlite) = &db else { unreachable!() };
        sqlx::query("CREATE TABLE writes (n INTEGER)").execute(sqlite.pool()).await.unwrap();
        let (given_up, committed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut writers = Vec::new();
        for _ in 0..8 {
            let (db, given_up, committed) = (db.clone(), given_up.clone(), committed.clone());
            writers.push(tokio::spawn(async move {
                for n in 0..300_i64 {
                    let write = async {
                        let mut tx = db.begin().await?;
                        let Tx::Sqlite(conn) = &mut tx else { unreachable!() };
                        sqlx::query("INSERT INTO writes (n) VALUES ($1)").bind(n).execute(&mut **conn).await?;
                        after_commit::after_commit(conn, || ()).await?;
                        tx.commit().await
                    };
                    // From at once to after a typical commit.
                    let limit = Duration::from_micros(rand::random::<u64>() % 4_000);
                    match tokio::time::timeout(limit, write).await {
                        Err(_) => given_up.fetch_add(1, Ordering::Relaxed),
                        Ok(result) => {
                            result.unwrap();
                            committed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            }));
        }
        for writer in writers {
            writer.await.unwrap();
        }
        assert!(given_up.load(Ordering::Relaxed) > 0, "no write was given up: the test proves nothing");
        // Nothing holds the turn or the lock: another write goes through, and an ungated one too
        // (with no busy timeout to wait out).
        let mut tx = db.begin().await.expect("the turn is free");
        let Tx::Sqlite(conn) = &mut tx else { unreachable!() };
        sqlx::query("INSERT INTO writes (n) VALUES (-1)").execute(&mut **conn).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = sqlite.pool().acquire().await.unwrap();
        sqlx::query("PRAGMA busy_timeout = 0").execute(&mut *conn).await.unwrap();
        sqlx::query("INSERT INTO writes (n) VALUES (-2)")
            .execute(&mut *conn)
            .await
            .expect("SQLite's write lock is free");
        drop(conn);
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
