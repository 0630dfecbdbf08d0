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
    ffi::{c_int, c_void},
    time::Duration,
};

use sqlx::SqliteConnection;

/// Between two tries at a lock.
const RETRY_EVERY: Duration = Duration::from_millis(1);

/// Makes `conn` wait up to `limit` for a lock another connection holds, trying every
/// [`RETRY_EVERY`]; then the statement fails with `SQLITE_BUSY` as with a busy timeout.
#[allow(unsafe_code)]
pub(super) async fn wait_at_most(conn: &mut SqliteConnection, limit: Duration) -> sqlx::Result<()> {
    // The handler's argument is the number of tries allowed (no allocation to free later).
    let tries = usize::try_from(limit.as_millis() / RETRY_EVERY.as_millis()).unwrap_or(usize::MAX).max(1);
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this open connection's handle, held locked; the handler touches no memory
    // (its argument is a number, not a pointer) and is valid for the life of the program.
    let code =
        unsafe { libsqlite3_sys::sqlite3_busy_handler(db, Some(try_again), std::ptr::without_provenance_mut(tries)) };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!("setting the SQLite busy handler failed (code {code})")))
    }
}

/// SQLite's busy handler: called with the tries so far; non-zero means try again. It runs on
/// the connection's own thread (sqlx gives each SQLite connection one), so sleeping blocks only
/// that connection.
extern "C" fn try_again(allowed: *mut c_void, tries: c_int) -> c_int {
    if usize::try_from(tries).unwrap_or(usize::MAX) >= allowed.addr() {
        return 0;
    }
    std::thread::sleep(RETRY_EVERY);
    1
}
