//! SQLite's write-ahead log, kept short by a background checkpointer.
//!
//! `Db::connect` turns SQLite's automatic checkpoints off (one run inside a commit stalls every
//! delivery waiting on that commit), so a long-running process copies the log into the database
//! itself, every [`CHECKPOINT_EVERY`], in `PASSIVE` mode, which never blocks a writer.
//!
//! A passive checkpoint copies pages but cannot make the log start again from its beginning:
//! SQLite restarts the log only when a writer finds it wholly copied and no reader still using
//! it, and a node under steady load - a dozen workers polling, handlers reading - always has a
//! reader. The log then only grows: the soak of docs/benchmarks.md (run 9) saw 2.9 GB after
//! 120 s at 300 deliveries a second, every statement slowing with it until the inbox refused
//! deliveries. So once the log holds [`RESTART_LOG_PAGES`], the checkpointer restarts it
//! (`RESTART`): in Billhook's write turn, so its own writers queue behind it instead of meeting it
//! in the busy handler, and waiting for readers [`RESTART_WAIT`] at most - a restart that would
//! wait longer is tried again at the next tick rather than holding every writer up.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{BUSY_TIMEOUT, Db, SqliteDb};

/// How often the background checkpointer copies the log into the database file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A log this long (in pages of 4 KiB: 16 MiB) after a passive checkpoint is restarted.
const RESTART_LOG_PAGES: i64 = 4096;

/// The longest a restart waits for the readers still using the log (writers wait meanwhile).
const RESTART_WAIT: Duration = Duration::from_millis(200);

impl Db {
    /// SQLite only (a no-op on PostgreSQL): checkpoints the log every [`CHECKPOINT_EVERY`] and
    /// restarts it when it grew long, until `shutdown`. Short commands need not run this (SQLite
    /// checkpoints when the last connection closes).
    pub async fn checkpoint_until(self, shutdown: CancellationToken) {
        let Db::Sqlite(sqlite) = self else { return };
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match checkpoint(sqlite.pool(), PASSIVE).await {
                Ok((_, log_pages, _)) if log_pages >= RESTART_LOG_PAGES => {
                    if let Err(e) = restart(&sqlite, log_pages).await {
                        tracing::warn!(error = %e, log_pages, "restarting the write-ahead log failed; retrying next tick");
                    }
                }
                Ok((_, log_pages, copied)) => tracing::trace!(log_pages, copied, "WAL checkpoint"),
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying next tick"),
            }
        }
    }
}

const PASSIVE: &str = "PRAGMA wal_checkpoint(PASSIVE)";
const RESTART: &str = "PRAGMA wal_checkpoint(RESTART)";

/// Runs a checkpoint: whether it was kept from finishing, pages in the log, pages copied.
async fn checkpoint<'c>(on: impl sqlx::SqliteExecutor<'c>, statement: &'static str) -> sqlx::Result<(bool, i64, i64)> {
    sqlx::query_as(statement).fetch_one(on).await
}

/// Copies what is left of the log and starts it again from its beginning, in Billhook's write
/// turn, waiting [`RESTART_WAIT`] at most for readers.
async fn restart(sqlite: &SqliteDb, log_pages: i64) -> sqlx::Result<()> {
    let started = Instant::now();
    let _turn = sqlite.write_turn().await?;
    let mut conn = sqlite.pool().acquire().await?;
    let outcome = async {
        super::busy::wait_at_most(&mut conn, RESTART_WAIT).await?;
        let restarted = checkpoint(&mut *conn, RESTART).await;
        super::busy::wait_at_most(&mut conn, BUSY_TIMEOUT).await?;
        restarted
    }
    .await;
    let (busy, _, _) = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            // It may still wait only briefly: not for the pool's other users.
            let _ = conn.close().await;
            return Err(e);
        }
    };
    let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if busy {
        tracing::debug!(log_pages, took_ms, "the write-ahead log is still in use; restarting it next tick");
    } else {
        tracing::debug!(log_pages, took_ms, "write-ahead log restarted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::RESTART_LOG_PAGES;
    use crate::db::{Db, PoolOptions, Tx};

    /// Writes go on while a reader is always in the log - a node's workers polling - so SQLite
    /// never restarts the log by itself and passive checkpoints alone let it grow with every
    /// write. The checkpointer restarts it: the file stays near [`RESTART_LOG_PAGES`] while six
    /// times as much is written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_stays_short_under_steady_writes_with_a_reader_always_in_it() {
        let dir = std::env::temp_dir().join(format!("billhook-wal-{}-{}", std::process::id(), rand::random::<u64>()));
        let db = Db::connect(&format!("sqlite://{}/wal.db", dir.display()), &PoolOptions::default()).await.unwrap();
        let Db::Sqlite(sqlite) = &db else { unreachable!() };
        sqlx::query("CREATE TABLE bodies (body BLOB NOT NULL)").execute(sqlite.pool()).await.unwrap();
        let stop = CancellationToken::new();
        // Two readers, each in a read transaction for 20 ms at a time, 10 ms apart.
        let mut readers = Vec::new();
        for offset in [0, 10] {
            let (pool, stop) = (sqlite.pool().clone(), stop.clone());
            readers.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(offset)).await;
                while !stop.is_cancelled() {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("SELECT count(*) FROM bodies").execute(&mut *tx).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    tx.commit().await.unwrap();
                }
            }));
        }
        let checkpointer = tokio::spawn(db.clone().checkpoint_until(stop.clone()));

        let log_file = dir.join("wal.db-wal");
        let limit = 4 * RESTART_LOG_PAGES as u64 * 4096;
        let body = vec![7_u8; 64 * 1024];
        let mut longest = 0;
        // At most 64 KiB every 5 ms (13 MiB/s), so that the restart threshold is crossed between
        // two ticks of the checkpointer, not many times over.
        for _ in 0..6 * RESTART_LOG_PAGES as usize * 4096 / body.len() {
            let mut tx = db.begin().await.unwrap();
            let Tx::Sqlite(conn) = &mut tx else { unreachable!() };
            sqlx::query("INSERT INTO bodies (body) VALUES ($1)").bind(&body).execute(&mut **conn).await.unwrap();
            tx.commit().await.unwrap();
            longest = longest.max(std::fs::metadata(&log_file).map_or(0, |m| m.len()));
            assert!(longest < limit, "the log grew to {longest} bytes");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stop.cancel();
        for reader in readers {
            reader.await.unwrap();
        }
        checkpointer.await.unwrap();
        assert!(longest > RESTART_LOG_PAGES as u64 * 4096 / 2, "the log never grew: the test proves nothing");
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
