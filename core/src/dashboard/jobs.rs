//! The jobs pages: apalis' job rows by queue and state, newest run time first in keyset pages;
//! one job with its arguments and every attempt Billhook recorded; "retry now" and "discard".
//! apalis is the engine: these read and change its table (`Jobs` on SQLite, `apalis.jobs` on
//! PostgreSQL) here and nowhere else, the way its own fetch and ack statements do.

use super::{Actor, Cursor, DashboardError, audit};
use crate::{
    clock,
    db::{Db, Sql, query_builder},
    on_db, on_tx,
};

/// One job row, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub queue: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it runs (or ran), unix seconds.
    pub run_at: i64,
    pub done_at: Option<i64>,
    /// apalis' record of the last run (an error, or the result).
    pub last_result: Option<String>,
}

impl JobRow {
    /// Failed for good: no attempt left, or killed.
    pub fn is_dead(&self) -> bool {
        self.status == "Killed" || (self.status == "Failed" && self.attempts >= self.max_attempts)
    }
}

const LIST: Sql = Sql {
    sqlite: "SELECT id, job_type AS queue, status, attempts, max_attempts, run_at, done_at, last_result FROM Jobs",
    postgres: "SELECT id, job_type AS queue, status, attempts::bigint AS attempts, max_attempts::bigint AS max_attempts, \
               EXTRACT(EPOCH FROM run_at)::bigint AS run_at, EXTRACT(EPOCH FROM done_at)::bigint AS done_at, \
               last_result::text AS last_result FROM apalis.jobs",
};

/// The jobs of `queue` (any if None) in `state` (any if None), or the one with `id`, that run
/// before `before`, latest run time first, `limit` a page; and the next page's cursor.
pub async fn list(
    db: &Db,
    id: Option<&str>,
    queue: Option<&str>,
    state: Option<&str>,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<JobRow>, Option<Cursor>), DashboardError> {
    if state.is_some_and(|s| !billhook_model::JOB_STATES.contains(&s)) {
        return Err(DashboardError::BadFilter);
    }
    let limit = limit.clamp(1, 200);
    let postgres = matches!(db, Db::Postgres(_));
    let run_at = if postgres { "EXTRACT(EPOCH FROM run_at)::bigint" } else { "run_at" };
    let mut rows: Vec<JobRow> = on_db!(db, pool => {
        let mut query = query_builder(pool, db.sql(&LIST));
        query.push(" WHERE 1 = 1");
        if let Some(id) = id {
            query.push(" AND id = ").push_bind(id.to_owned());
        }
        if let Some(queue) = queue {
            query.push(" AND job_type = ").push_bind(queue.to_owned());
        }
        if let Some(state) = state {
            query.push(" AND status = ").push_bind(state.to_owned());
        }
        if let Some(cursor) = before {
            query.push(format!(" AND ({run_at} < ")).push_bind(cursor.at);
            query.push(format!(" OR ({run_at} = ")).push_bind(cursor.at);
            query.push(" AND id < ").push_bind(cursor.id.clone()).push("))");
        }
        query.push(" ORDER BY run_at DESC, id DESC LIMIT ").push_bind(limit + 1);
        query.build_query_as().fetch_all(pool).await
    })?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(|r| Cursor { at: r.run_at, id: r.id.clone() }) } else { None };
    Ok((rows, next))
}

/// One attempt Billhook recorded (a failed one, with its error).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    pub attempt: i64,
    pub worker: String,
    /// Unix ms.
    pub started_at: i64,
    pub finished_at: i64,
    pub error: Option<String>,
    /// When it was to run again (unix ms); None: it was the last.
    pub retry_at: Option<i64>,
}

/// One job: its row, its arguments as JSON, and its recorded attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDetail {
    pub row: JobRow,
    pub arguments: String,
    pub attempts: Vec<Attempt>,
}

const ARGUMENTS: Sql = Sql {
    sqlite: "SELECT CAST(job AS TEXT) FROM Jobs WHERE id = $1",
    postgres: "SELECT convert_from(job, 'UTF8') FROM apalis.jobs WHERE id = $1",
};

/// Job `id`, if it exists.
pub async fn detail(db: &Db, id: &str) -> Result<Option<JobDetail>, DashboardError> {
    let row: Option<JobRow> = on_db!(db, pool => {
        let mut query = query_builder(pool, db.sql(&LIST));
        query.push(" WHERE id = ").push_bind(id.to_owned());
        query.build_query_as().fetch_optional(pool).await
    })?;
    let Some(row) = row else { return Ok(None) };
    let arguments: Option<String> =
        on_db!(db, pool => sqlx::query_scalar(db.sql(&ARGUMENTS)).bind(id).fetch_optional(pool).await)?;
    let arguments = arguments.unwrap_or_default();
    let arguments = serde_json::from_str::<serde_json::Value>(&arguments)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(arguments);
    let attempts: Vec<Attempt> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT attempt, worker, started_at, finished_at, error, retry_at FROM job_attempts \
             WHERE task_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?;
    Ok(Some(JobDetail { row, arguments, attempts }))
}

const RETRY: Sql = Sql {
    sqlite: "UPDATE Jobs SET status = 'Pending', run_at = $2, done_at = NULL, lock_at = NULL, lock_by = NULL, \
             max_attempts = MAX(max_attempts, attempts + 1) WHERE id = $1 AND status IN ('Failed', 'Killed')",
    postgres: "UPDATE apalis.jobs SET status = 'Pending', run_at = to_timestamp($2), done_at = NULL, lock_at = NULL, \
               lock_by = NULL, max_attempts = GREATEST(max_attempts, attempts + 1) \
               WHERE id = $1 AND status IN ('Failed', 'Killed')",
};

const DISCARD: Sql = Sql {
    sqlite: "UPDATE Jobs SET status = 'Killed', done_at = $2, lock_at = NULL, lock_by = NULL \
             WHERE id = $1 AND status IN ('Pending', 'Queued', 'Failed')",
    postgres: "UPDATE apalis.jobs SET status = 'Killed', done_at = to_timestamp($2), lock_at = NULL, lock_by = NULL \
               WHERE id = $1 AND status IN ('Pending', 'Queued', 'Failed')",
};

/// Runs failed (or discarded) job `id` again now, with one more attempt if it had none left.
pub async fn retry_now(db: &Db, actor: &Actor, id: &str) -> Result<(), DashboardError> {
    act(db, actor, id, &RETRY, "job.retry", "only a failed or discarded job can be retried").await
}

/// Gives up on job `id` (waiting, or failed and waiting to retry): it will not run.
pub async fn discard(db: &Db, actor: &Actor, id: &str) -> Result<(), DashboardError> {
    act(db, actor, id, &DISCARD, "job.discard", "a running or finished job cannot be discarded").await
}

async fn act(
    db: &Db,
    actor: &Actor,
    id: &str,
    statement: &Sql,
    action: &str,
    refusal: &'static str,
) -> Result<(), DashboardError> {
    let mut tx = db.begin().await?;
    let sql = tx.sql(statement);
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(sql).bind(id).bind(clock::now_ms() / 1000).execute(conn).await.map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        let sql = tx.sql(&ARGUMENTS);
        let exists: Option<String> =
            on_tx!(&mut tx, conn => sqlx::query_scalar(sql).bind(id).fetch_optional(conn).await)?;
        return Err(if exists.is_some() {
            DashboardError::WrongState(refusal)
        } else {
            DashboardError::NotFound("job")
        });
    }
    audit::record(&mut tx, actor, action, id, 1).await?;
    tx.commit().await?;
    Ok(())
}
