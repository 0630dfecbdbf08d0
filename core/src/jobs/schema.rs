//! apalis' tables on Billhook's database.

use crate::db::Db;
use anyhow::Context;

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
            sqlx::query(DASHBOARD_INDEX_SQLITE).execute(pool).await.context("indexing the jobs for the dashboard")?;
        }
        Db::Postgres(pool) => {
            apalis_postgres::PostgresStorage::setup(pool)
                .await
                .context("applying the job queue's PostgreSQL migrations")?;
            for index in DASHBOARD_INDEXES_POSTGRES {
                sqlx::query(index).execute(pool).await.context("indexing the jobs for the dashboard")?;
            }
        }
    }
    Ok(())
}

/// The dashboard's newest-first job list (`ORDER BY run_at DESC, id DESC`, keyset pages) walks
/// this index instead of sorting a million rows. It is Billhook's, on apalis' table, so it is
/// created after apalis' own migrations.
const DASHBOARD_INDEX_SQLITE: &str = "CREATE INDEX IF NOT EXISTS billhook_jobs_run_at_id ON Jobs (run_at, id)";
/// The same on PostgreSQL, and one by queue and state: apalis' PostgreSQL tables index neither
/// (only what its fetch needs), and the overview's per-queue state counts and a queue's filtered
/// list would otherwise read the whole table (740 ms at 1,000,000 jobs; 5 ms with it).
const DASHBOARD_INDEXES_POSTGRES: [&str; 2] = [
    "CREATE INDEX IF NOT EXISTS billhook_jobs_run_at_id ON apalis.jobs (run_at, id)",
    "CREATE INDEX IF NOT EXISTS billhook_jobs_queue_state ON apalis.jobs (job_type, status, run_at, id)",
];

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
