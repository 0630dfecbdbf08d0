//! apalis' tables on Billhook's database, and enqueueing inside a transaction.

use anyhow::Context;
use apalis::prelude::TaskBuilder;
use sqlx::{PgConnection, SqliteConnection};

use super::NewJob;
use crate::db::Db;

/// Creates or upgrades apalis' tables. On SQLite its migrations are kept in their own
/// bookkeeping table (they would otherwise collide with Billhook's in `_sqlx_migrations`); on
/// PostgreSQL apalis keeps everything in schema `apalis` (it needs the `hstore` extension).
pub async fn setup(db: &Db) -> anyhow::Result<()> {
    match db {
        Db::Sqlite(pool) => {
            let mut migrator = apalis_sqlite::SqliteStorage::<()>::migrations();
            migrator.dangerous_set_table_name("_apalis_migrations");
            migrator.run(pool).await.context("applying the job queue's SQLite migrations")?;
            steer_sqlite_planner(pool).await.context("setting the job queue's SQLite planner statistics")?;
        }
        Db::Postgres(pool) => {
            apalis_postgres::PostgresStorage::setup(pool)
                .await
                .context("applying the job queue's PostgreSQL migrations")?;
        }
    }
    Ok(())
}

/// apalis' SQLite ack and lock statements (`UPDATE Jobs ... id IN json_each(?)` / `lock_by = ?`)
/// are planned, without statistics, by the `lock_by` index: every ack then walks all the jobs
/// the worker ever ran, and throughput falls as the table grows (187 jobs/s with 20,000 queued,
/// measured). With statistics saying what is true - `id` is unique, a worker holds many rows -
/// SQLite looks each acked id up by primary key. They are written once here (the table is empty
/// at first, so ANALYZE alone would record nothing) and kept fresh by `PRAGMA optimize`.
async fn steer_sqlite_planner(pool: &sqlx::SqlitePool) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("ANALYZE Jobs").execute(&mut *tx).await?; // creates sqlite_stat1 if missing
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'Jobs' AND idx IN ('sqlite_autoindex_Jobs_1', 'LIdx')")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES \
         ('Jobs', 'sqlite_autoindex_Jobs_1', '100000 1'), ('Jobs', 'LIdx', '100000 5000')",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE sqlite_schema").execute(pool).await?; // reload the statistics
    Ok(())
}

fn tasks(jobs: Vec<NewJob>) -> Vec<(&'static str, apalis::prelude::Task<Vec<u8>>)> {
    jobs.into_iter().map(|job| (job.queue, TaskBuilder::new(job.args).max_attempts(job.max_attempts).build())).collect()
}

/// Per-database enqueueing on an open transaction's connection.
pub trait EnqueueOn {
    fn enqueue(&mut self, jobs: Vec<NewJob>) -> impl Future<Output = anyhow::Result<()>> + Send;
}

impl EnqueueOn for SqliteConnection {
    async fn enqueue(&mut self, jobs: Vec<NewJob>) -> anyhow::Result<()> {
        for (queue, task) in tasks(jobs) {
            apalis_sqlite::queries::push_tasks(self, queue, std::slice::from_ref(&task)).await?;
        }
        Ok(())
    }
}

impl EnqueueOn for PgConnection {
    async fn enqueue(&mut self, jobs: Vec<NewJob>) -> anyhow::Result<()> {
        let mut by_queue: std::collections::BTreeMap<&'static str, Vec<_>> = Default::default();
        for (queue, task) in tasks(jobs) {
            by_queue.entry(queue).or_default().push(task);
        }
        for (queue, tasks) in by_queue {
            apalis_postgres::queries::push_tasks(self, queue, tasks).await?;
        }
        Ok(())
    }
}

/// Enqueues `jobs` on `conn` (a transaction's connection): they commit or vanish with it.
pub async fn enqueue_in_tx<C: EnqueueOn + ?Sized>(conn: &mut C, jobs: Vec<NewJob>) -> anyhow::Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    conn.enqueue(jobs).await
}
