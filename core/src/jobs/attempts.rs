//! Billhook's bookkeeping around each attempt: every failed attempt kept with its error in
//! `job_attempts` (apalis keeps only the last result), and a retry's run time written to the job
//! row, so neither a crash nor another node retries early (apalis' fetch honours `run_at`).

use crate::{
    clock,
    db::{Db, Sql},
    on_db,
};

const SET_RUN_AT: Sql = Sql {
    sqlite: "UPDATE Jobs SET run_at = $1 WHERE id = $2",
    postgres: "UPDATE apalis.jobs SET run_at = to_timestamp($1) WHERE id = $2",
};

/// One failed attempt of a job.
pub(super) struct FailedAttempt<'a> {
    pub task_id: &'a str,
    pub queue: &'a str,
    /// 1 for the first run.
    pub attempt: usize,
    pub worker: &'a str,
    pub started_at_ms: i64,
    pub error: &'a str,
    /// When it runs again (Unix seconds); None: the job is dead.
    pub retry_at_secs: Option<i64>,
}

impl FailedAttempt<'_> {
    /// Stores the attempt, and the retry time on the job row (before apalis marks the job
    /// failed). A bookkeeping failure is logged, not raised: the job's own outcome stands.
    pub async fn record(&self, db: &Db) {
        if let Err(e) = self.try_record(db).await {
            tracing::warn!(error = %e, task_id = self.task_id, "could not record the job attempt");
        }
    }

    async fn try_record(&self, db: &Db) -> sqlx::Result<()> {
        let _turn = db.write_turn().await?;
        if let Some(retry_at) = self.retry_at_secs {
            let sql = db.sql(&SET_RUN_AT);
            on_db!(db, pool => sqlx::query(sql).bind(retry_at).bind(self.task_id).execute(pool).await.map(|_| ()))?;
        }
        on_db!(db, pool => {
            sqlx::query(
                "INSERT INTO job_attempts (task_id, queue, attempt, worker, started_at, finished_at, error, retry_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(self.task_id)
            .bind(self.queue)
            .bind(i64::try_from(self.attempt).unwrap_or(i64::MAX))
            .bind(self.worker)
            .bind(self.started_at_ms)
            .bind(clock::now_ms())
            .bind(self.error)
            .bind(self.retry_at_secs.map(|s| s * 1000))
            .execute(pool)
            .await
            .map(|_| ())
        })
    }
}
