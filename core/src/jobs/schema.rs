//! apalis' tables on Billhook's database.

use crate::db::Db;
use anyhow::Context;

/// Creates or upgrades apalis' tables. On SQLite its migrations are kept in their own
/// bookkeeping table (they would otherwise collide with Billhook's in `_sqlx_migrations`); on
/// PostgreSQL apalis keeps everything in schema `apalis` (it needs the `hstore` extension).
pub async fn setup(db: &Db) -> anyhow::Result<()> {
    match db {
        Db::Sqlite(sqlite) => {
            let pool = sqlite.pool();
            let mut migrator = apalis_sqlite::SqliteStorage::<()>::migrations();
            migrator.dangerous_set_table_name("_apalis_migrations");
            migrator.run(pool).await.context("applying the job queue's SQLite migrations")?;
            // Indexed first, so that the statistics below sample this index too.
            sqlx::query(DASHBOARD_INDEX_SQLITE).execute(pool).await.context("indexing the jobs for the dashboard")?;
            steer_sqlite_planner(pool).await.context("setting the job queue's SQLite planner statistics")?;
            sqlx::query(RESCUE_TRIGGER_SQLITE).execute(pool).await.context("noting rescued jobs")?;
        }
        Db::Postgres(pool) => {
            apalis_postgres::PostgresStorage::setup(pool)
                .await
                .context("applying the job queue's PostgreSQL migrations")?;
            billhook_postgres_setup(pool).await?;
        }
    }
    Ok(())
}

/// Billhook's indexes and rescue trigger on apalis' tables, in one transaction under an advisory
/// lock: nodes restarted together (a deploy) would otherwise race on PostgreSQL's catalogue - two
/// `CREATE OR REPLACE FUNCTION`s of one function fail one node's start with "tuple concurrently
/// updated" (4 starts of 15 with three nodes). apalis' own migrations take sqlx's lock.
async fn billhook_postgres_setup(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('billhook.jobs.schema', 0))")
        .execute(&mut *tx)
        .await
        .context("waiting for another node's job queue set-up")?;
    for index in DASHBOARD_INDEXES_POSTGRES {
        sqlx::query(index).execute(&mut *tx).await.context("indexing the jobs for the dashboard")?;
    }
    for statement in LOCKED_BY_INDEX_POSTGRES {
        sqlx::query(statement).execute(&mut *tx).await.context("indexing the jobs by the worker running them")?;
    }
    // The function is replaced in place; the trigger, which locks apalis' table to create, only
    // when missing (a changed WHEN clause needs a new trigger name).
    sqlx::query(RESCUE_FUNCTION_POSTGRES).execute(&mut *tx).await.context("noting rescued jobs")?;
    let trigger: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_trigger WHERE tgname = 'billhook_job_rescued'")
        .fetch_optional(&mut *tx)
        .await?;
    if trigger.is_none() {
        sqlx::query(RESCUE_TRIGGER_POSTGRES).execute(&mut *tx).await.context("noting rescued jobs")?;
    }
    tx.commit().await.context("committing the job queue's set-up")?;
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

/// apalis indexes `lock_by` whole (twice: `lidx` and `idx_apalis_jobs_lock_by`), and a finished
/// job keeps the name of the worker that ran it. Its acknowledgement statement
/// (`handle_result.sql`: the jobs of a batch `WHERE lock_by = $2`) is then planned as a scan of
/// every job the worker has ever run, joined by hash with the batch: 10-15 ms an ack at 20,000
/// finished jobs and growing until housekeeping deletes them, the largest cost of PostgreSQL's
/// job throughput (docs/benchmarks.md, run 11). Indexed only while they run, the jobs of a batch
/// are found by their primary key (1 ms, whatever the table holds). apalis' other uses of
/// `lock_by` are covered: the rescue looks for running jobs (this index), the others name the
/// job ids; nothing deletes a worker row, whose foreign key check would want the whole index.
const LOCKED_BY_INDEX_POSTGRES: [&str; 2] = [
    "CREATE INDEX IF NOT EXISTS billhook_jobs_locked_by ON apalis.jobs (lock_by) \
     WHERE status = 'Running' OR status = 'Queued'",
    "DROP INDEX IF EXISTS apalis.lidx, apalis.idx_apalis_jobs_lock_by",
];

/// apalis takes a job back from a worker in one statement of its own (orphan rescue when the
/// worker's heartbeat stopped, or the hand-back of a node shutting down): Running or Queued, held
/// by a worker, becomes Pending and held by none. Nothing else makes that change (a retry starts
/// from Failed), so a trigger on it notes every rescue in `job_rescues` for the nodes page, with
/// the worker that held the job - which the statement itself erases.
const RESCUE_TRIGGER_SQLITE: &str = "\
    CREATE TRIGGER IF NOT EXISTS billhook_job_rescued AFTER UPDATE OF status ON Jobs \
    WHEN OLD.status IN ('Running', 'Queued') AND NEW.status = 'Pending' \
         AND OLD.lock_by IS NOT NULL AND NEW.lock_by IS NULL \
    BEGIN \
        INSERT INTO job_rescues (task_id, queue, worker, was, reason, rescued_at) \
        VALUES (NEW.id, NEW.job_type, OLD.lock_by, OLD.status, NEW.last_result, \
                CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); \
    END";
/// On PostgreSQL the trigger also announces the job on apalis' channel, so that a worker of its
/// queue takes it at once (`super::wakeups`), as for a new job.
const RESCUE_FUNCTION_POSTGRES: &str = "\
    CREATE OR REPLACE FUNCTION billhook_note_job_rescue() RETURNS trigger LANGUAGE plpgsql AS $$ \
    BEGIN \
        INSERT INTO job_rescues (task_id, queue, worker, was, reason, rescued_at) \
        VALUES (NEW.id, NEW.job_type, OLD.lock_by, OLD.status, NEW.last_result::text, \
                (extract(epoch FROM clock_timestamp()) * 1000)::bigint); \
        PERFORM pg_notify('apalis::job::insert', json_build_object('job_type', NEW.job_type, 'id', NEW.id)::text); \
        RETURN NULL; \
    END $$";
const RESCUE_TRIGGER_POSTGRES: &str = "\
    CREATE TRIGGER billhook_job_rescued AFTER UPDATE OF status ON apalis.jobs FOR EACH ROW \
    WHEN (OLD.status IN ('Running', 'Queued') AND NEW.status = 'Pending' \
          AND OLD.lock_by IS NOT NULL AND NEW.lock_by IS NULL) \
    EXECUTE FUNCTION billhook_note_job_rescue()";

/// apalis' SQLite ack and lock statements (`UPDATE Jobs ... id IN json_each(?)` / `lock_by = ?`)
/// are planned, without statistics, by the `lock_by` index: every ack then walks all the jobs
/// the worker ever ran, and throughput falls as the table grows (187 jobs/s with 20,000 queued,
/// measured). With statistics saying what is true - `id` is unique, a worker holds many rows -
/// SQLite looks each acked id up by primary key. They are written here at every start (the table
/// is empty at first, so ANALYZE alone would record nothing) and kept fresh by `PRAGMA optimize`.
///
/// The written rows give the table's size as sampled by ANALYZE, never less than [`ASSUMED_JOBS`].
/// SQLite takes a table's size from the last statistics row it loads, which is one of these: a
/// size far below what the sampled indexes say makes walking an index look dearer than reading
/// the whole table and sorting it (the dashboard's newest-jobs list took 230 ms at a million
/// jobs, sorting them all, instead of reading 51 rows down `billhook_jobs_run_at_id`).
async fn steer_sqlite_planner(pool: &sqlx::SqlitePool) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    // Creates sqlite_stat1 if missing; sampled, so a start on a million jobs takes milliseconds.
    sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *tx).await?;
    sqlx::query("ANALYZE Jobs").execute(&mut *tx).await?;
    // A stat row starts with the row count (the leading integer of the text).
    let sampled: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'Jobs' AND idx = 'sqlite_autoindex_Jobs_1'",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (rows, per_worker) = planner_rows(sampled);
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'Jobs' AND idx IN ('sqlite_autoindex_Jobs_1', 'LIdx')")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('Jobs', 'sqlite_autoindex_Jobs_1', $1), ('Jobs', 'LIdx', $2)")
        .bind(format!("{rows} 1"))
        .bind(format!("{rows} {per_worker}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE sqlite_schema").execute(pool).await?; // reload the statistics
    Ok(())
}

/// The size the statistics give the jobs table when it is smaller (or empty: nothing sampled).
const ASSUMED_JOBS: i64 = 100_000;

/// The jobs table's size for the statistics, from ANALYZE's sample of its primary key, and how
/// many jobs one worker is said to hold (one in twenty).
fn planner_rows(sampled: Option<i64>) -> (i64, i64) {
    let rows = sampled.unwrap_or_default().max(ASSUMED_JOBS);
    (rows, rows / 20)
}

#[cfg(test)]
mod tests {
    use super::planner_rows;

    #[test]
    fn the_statistics_keep_the_sampled_size_and_assume_a_large_table_when_it_is_small() {
        assert_eq!(planner_rows(None), (100_000, 5_000));
        assert_eq!(planner_rows(Some(0)), (100_000, 5_000));
        assert_eq!(planner_rows(Some(1_076_920)), (1_076_920, 53_846));
    }
}
