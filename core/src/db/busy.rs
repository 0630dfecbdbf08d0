//! How a SQLite connection waits for a lock another connection holds.
//!
//! SQLite's own busy timeout sleeps between tries, longer the longer it has waited - 1, 2, 5,
//! 10 ... then 100 ms at a time. Under a steady load the write lock is free again within a
//! millisecond or two, but a writer that has waited a while sleeps through those gaps while
//! newcomers take the lock: the soak of docs/benchmarks.md (run 9) counted 120 such sleeps a
//! second on the database threads as the backlog grew and the inbox's writes timed out. Billhook's
//! own writers take turns (`write_turns`); apalis' statements do not, and meet them here. So every
//! connection waits by trying again every millisecond, for as long as its limit allows.

use std::{
    cell::Cell,
    ffi::{c_int, c_void},
    time::{Duration, Instant},
};

use sqlx::SqliteConnection;

/// Between two tries at a lock.
const RETRY_EVERY: Duration = Duration::from_millis(1);

/// Makes `conn` wait up to `limit` for a lock another connection holds, trying every
/// [`RETRY_EVERY`]; then the statement fails with `SQLITE_BUSY` as with a busy timeout.
#[allow(unsafe_code)]
pub(super) async fn wait_at_most(conn: &mut SqliteConnection, limit: Duration) -> sqlx::Result<()> {
    // The handler's argument is the limit in microseconds (a number: nothing to free later).
    let limit_micros = usize::try_from(limit.as_micros()).unwrap_or(usize::MAX);
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this open connection's handle, held locked; the handler touches no memory
    // (its argument is a number, not a pointer) and is valid for the life of the program.
    let code = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(db, Some(try_again), std::ptr::without_provenance_mut(limit_micros))
    };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!("setting the SQLite busy handler failed (code {code})")))
    }
}

thread_local! {
    /// When the statement running on this thread began to wait for the lock it waits for now.
    static WAITING_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// SQLite's busy handler: called with the tries so far (0 on the first) for one wait, all on the
/// thread running the statement; non-zero means try again. It runs on the connection's own
/// thread (sqlx gives each SQLite connection one), so sleeping blocks only that connection. The
/// wait is timed, not counted in tries: a loaded machine oversleeps a millisecond.
extern "C" fn try_again(limit_micros: *mut c_void, tries: c_int) -> c_int {
    let now = Instant::now();
    let since = if tries == 0 {
        WAITING_SINCE.set(Some(now));
        now
    } else {
        WAITING_SINCE.get().unwrap_or(now)
    };
    let limit = Duration::from_micros(u64::try_from(limit_micros.addr()).unwrap_or(u64::MAX));
    if now.duration_since(since) >= limit {
        return 0;
    }
    std::thread::sleep(RETRY_EVERY);
    1
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use sqlx::{Connection, SqliteConnection, sqlite::SqliteConnectOptions};

    use super::wait_at_most;

    async fn open(path: &std::path::Path) -> SqliteConnection {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        SqliteConnection::connect_with(&options).await.unwrap()
    }

    /// A writer waits for a lock that is let go within its limit, and gives up with
    /// `SQLITE_BUSY` - having waited its whole limit - on one held longer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_waits_out_a_short_lock_and_gives_up_after_its_limit_on_a_long_one() {
        let dir = std::env::temp_dir().join(format!("billhook-busy-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("busy.db");
        let mut holder = open(&path).await;
        sqlx::query("CREATE TABLE writes (n INTEGER)").execute(&mut holder).await.unwrap();
        let mut waiter = open(&path).await;

        // Held for 300 ms against a 5 s limit: the insert goes in once the lock is let go.
        wait_at_most(&mut waiter, Duration::from_secs(5)).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
        let (released_tx, mut released_rx) = tokio::sync::oneshot::channel();
        let insert = tokio::spawn(async move {
            sqlx::query("INSERT INTO writes (n) VALUES (1)").execute(&mut waiter).await.unwrap();
            assert!(released_rx.try_recv().is_ok(), "the insert went in before the lock was let go");
            waiter
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        released_tx.send(()).unwrap();
        sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
        let mut waiter = insert.await.unwrap();

        // Held for good against a 200 ms limit: SQLITE_BUSY, after at least 200 ms.
        wait_at_most(&mut waiter, Duration::from_millis(200)).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
        let started = Instant::now();
        let error = sqlx::query("INSERT INTO writes (n) VALUES (2)").execute(&mut waiter).await.unwrap_err();
        let waited = started.elapsed();
        assert!(error.to_string().contains("database is locked"), "SQLITE_BUSY: {error}");
        assert!(waited >= Duration::from_millis(200), "gave up after {waited:?}");
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();

        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM writes").fetch_one(&mut waiter).await.unwrap();
        assert_eq!(count, 1);
        drop((holder, waiter));
        let _ = std::fs::remove_dir_all(dir);
    }
}
