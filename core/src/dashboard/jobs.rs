//! The jobs pages: apalis' job rows by queue and state, newest run time first in keyset pages;
//! one job with its arguments and every attempt Billhook recorded; "retry now" and "discard",
//! for one job or - after a dry-run count - for everything a filter matches.
//! apalis is the engine: these read and change its table (`Jobs` on SQLite, `apalis.jobs` on
//! PostgreSQL) here and nowhere else, the way its own fetch and ack statements do.

use super::{Cursor, DashboardError};
use crate::{
    db::{Db, Sql, query_builder},
    jobs::Cause,
    on_db,
};

/// Adds `filter`'s conditions to a query of the jobs table that has its `WHERE` already. An
/// argument is found by its path in the job's JSON (`event_id`, `template.path`) through the
/// index written with each job (`job_arguments`).
macro_rules! push_filter {
    ($query:expr, $filter:expr) => {{
        if let Some((path, value)) = &$filter.argument {
            $query.push(" AND id IN (SELECT task_id FROM job_arguments WHERE path = ").push_bind(path.clone());
            $query.push(" AND value = ").push_bind(value.clone()).push(")");
        }
        if let Some(id) = &$filter.id {
            $query.push(" AND id = ").push_bind(id.clone());
        }
        if let Some(queue) = &$filter.queue {
            $query.push(" AND job_type = ").push_bind(queue.clone());
        }
        if let Some(state) = &$filter.state {
            $query.push(" AND status = ").push_bind(state.clone());
        }
    }};
}

/// Keeps the rows after keyset cursor `$before` (newest first), `$run_at` being the run time
/// in unix seconds in this dialect.
macro_rules! push_before {
    ($query:expr, $before:expr, $run_at:expr) => {{
        if let Some(cursor) = $before {
            $query.push(format!(" AND ({} < ", $run_at)).push_bind(cursor.at);
            $query.push(format!(" OR ({} = ", $run_at)).push_bind(cursor.at);
            $query.push(" AND id < ").push_bind(cursor.id.clone()).push("))");
        }
    }};
}

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

    /// Whether `action` applies to it now (the states `JobAction` changes).
    pub fn allows(&self, action: JobAction) -> bool {
        action.states().contains(&self.status.as_str())
    }
}

/// The columns of a [`JobRow`] from the jobs table; callers add the conditions.
const LIST: Sql = Sql {
    sqlite: "SELECT id, job_type AS queue, status, attempts, max_attempts, run_at, done_at, last_result FROM Jobs",
    postgres: "SELECT id, job_type AS queue, status, attempts::bigint AS attempts, max_attempts::bigint AS max_attempts, \
               EXTRACT(EPOCH FROM run_at)::bigint AS run_at, EXTRACT(EPOCH FROM done_at)::bigint AS done_at, \
               last_result::text AS last_result FROM apalis.jobs",
};

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

/// One job: its row, its arguments as JSON, its recorded attempts, and what set it off
/// (`("event", "evt_...")`, `("schedule", name)`), if that was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDetail {
    pub row: JobRow,
    pub arguments: String,
    pub attempts: Vec<Attempt>,
    pub cause: Option<(String, String)>,
}

/// How many jobs of one cause a page lists.
pub const CAUSED_SHOWN: i64 = 100;

/// The jobs `cause` set off (the first [`CAUSED_SHOWN`], in the order they were queued), each
/// with its recorded attempts.
pub async fn caused_by(db: &Db, cause: Cause<'_>) -> Result<Vec<(JobRow, Vec<Attempt>)>, DashboardError> {
    let (kind, id) = (cause.kind(), cause.id().to_owned());
    let rows: Vec<JobRow> = on_db!(db, pool => {
        let mut query = query_builder(pool, db.sql(&LIST));
        query.push(" WHERE id IN (SELECT task_id FROM job_causes WHERE cause_kind = ").push_bind(kind);
        query.push(" AND cause_id = ").push_bind(id.clone());
        query.push(" ORDER BY task_id LIMIT ").push_bind(CAUSED_SHOWN).push(") ORDER BY id");
        query.build_query_as().fetch_all(pool).await
    })?;
    let attempts: Vec<(String, Attempt)> = on_db!(db, pool => {
        let rows: Vec<AttemptOf> = sqlx::query_as(
            "SELECT a.task_id, a.attempt, a.worker, a.started_at, a.finished_at, a.error, a.retry_at \
             FROM job_attempts a JOIN job_causes c ON c.task_id = a.task_id \
             WHERE c.cause_kind = $1 AND c.cause_id = $2 ORDER BY a.task_id, a.attempt",
        )
        .bind(kind)
        .bind(&id)
        .fetch_all(pool)
        .await?;
        Ok::<_, sqlx::Error>(rows.into_iter().map(|a| (a.task_id, a.attempt)).collect())
    })?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_row = attempts.iter().filter(|(task, _)| *task == row.id).map(|(_, a)| a.clone()).collect();
            (row, of_row)
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct AttemptOf {
    task_id: String,
    #[sqlx(flatten)]
    attempt: Attempt,
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
    let cause: Option<(String, String)> = on_db!(db, pool => {
        sqlx::query_as("SELECT cause_kind, cause_id FROM job_causes WHERE task_id = $1").bind(id).fetch_optional(pool).await
    })?;
    Ok(Some(JobDetail { row, arguments, attempts, cause }))
}

/// Which jobs an action is for: one by id, or every job of a queue and/or in a state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobFilter {
    pub id: Option<String>,
    pub queue: Option<String>,
    pub state: Option<String>,
    /// A path in the job's arguments and the value it must hold (`event_id`, `evt_...`).
    pub argument: Option<(String, String)>,
}

impl std::fmt::Display for JobFilter {
    /// As the audit log writes it: `queue=email state=Failed`, or the job's id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(id) = &self.id {
            return f.write_str(id);
        }
        let mut parts: Vec<String> = [("queue", &self.queue), ("state", &self.state)]
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
            .collect();
        if let Some((path, value)) = &self.argument {
            parts.push(format!("{path}={value}"));
        }
        if parts.is_empty() { f.write_str("all jobs") } else { f.write_str(&parts.join(" ")) }
    }
}

fn table(db_is_postgres: bool) -> &'static str {
    if db_is_postgres { "apalis.jobs" } else { "Jobs" }
}

pub(crate) fn check(filter: &JobFilter) -> Result<(), DashboardError> {
    if filter.state.as_deref().is_some_and(|s| !billhook_model::JOB_STATES.contains(&s)) {
        return Err(DashboardError::BadFilter);
    }
    // A path of names: `event_id`, `template.path`.
    let name = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if filter.argument.as_ref().is_some_and(|(path, _)| !path.split('.').all(name)) {
        return Err(DashboardError::BadFilter);
    }
    Ok(())
}

mod actions;
mod list;
pub(crate) use actions::apply_chunk;
pub use actions::{JobAction, apply, count, discard, retry_now};
pub use list::{explain_list, list};
