//! Work to run once a SQLite connection's transaction commits: the wake-up of the workers whose
//! queue it added jobs to (`crate::jobs::wakeups`). SQLite calls a commit hook on the
//! connection's own thread as the commit ends; a rollback drops the work. PostgreSQL needs none
//! of this: a `NOTIFY` is itself delivered on commit.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex, PoisonError},
};

use sqlx::SqliteConnection;

type Work = Box<dyn FnOnce() + Send>;

/// Work waiting for a commit, by connection (the address of its `sqlite3` handle).
static PENDING: LazyLock<Mutex<HashMap<usize, Vec<Work>>>> = LazyLock::new(Mutex::default);

fn pending() -> std::sync::MutexGuard<'static, HashMap<usize, Vec<Work>>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn take(connection: usize) -> Vec<Work> {
    pending().remove(&connection).unwrap_or_default()
}

async fn key(conn: &mut SqliteConnection) -> sqlx::Result<usize> {
    Ok(conn.lock_handle().await?.as_raw_handle().as_ptr().addr())
}

/// Sets the commit and rollback hooks on a new pooled connection.
pub(super) async fn install(conn: &mut SqliteConnection) -> sqlx::Result<()> {
    let mut handle = conn.lock_handle().await?;
    let connection = handle.as_raw_handle().as_ptr().addr();
    // A closed connection's leftovers, if a new one opened at its address.
    drop(take(connection));
    handle.set_commit_hook(move || {
        for work in take(connection) {
            work();
        }
        true
    });
    handle.set_rollback_hook(move || drop(take(connection)));
    Ok(())
}

/// Runs `work` when the transaction open on `conn` commits - or, outside a transaction, when the
/// next statement does (so call it before the writes). Never if it rolls back. Without the hooks
/// (a connection not from [`Db::connect`](super::Db::connect)) the work waits for a later commit
/// of the same connection, or is never run: it must be an optimisation only.
pub async fn after_commit(conn: &mut SqliteConnection, work: impl FnOnce() + Send + 'static) -> sqlx::Result<()> {
    let connection = key(conn).await?;
    pending().entry(connection).or_default().push(Box::new(work));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use sqlx::{Connection, Executor};

    use super::*;

    #[tokio::test]
    async fn work_runs_on_commit_and_never_after_a_rollback() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        install(&mut conn).await.unwrap();
        conn.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let count = |runs: &Arc<AtomicUsize>| {
            let runs = runs.clone();
            move || {
                runs.fetch_add(1, Ordering::SeqCst);
            }
        };

        let mut tx = conn.begin().await.unwrap();
        after_commit(&mut tx, count(&runs)).await.unwrap();
        (&mut *tx).execute("INSERT INTO t VALUES (1)").await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not before the commit");
        tx.commit().await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        let mut tx = conn.begin().await.unwrap();
        after_commit(&mut tx, count(&runs)).await.unwrap();
        (&mut *tx).execute("INSERT INTO t VALUES (2)").await.unwrap();
        tx.rollback().await.unwrap();
        conn.execute("INSERT INTO t VALUES (3)").await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "dropped with the rollback");

        after_commit(&mut conn, count(&runs)).await.unwrap();
        conn.execute("INSERT INTO t VALUES (4)").await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2, "outside a transaction: with the next statement");
    }
}
