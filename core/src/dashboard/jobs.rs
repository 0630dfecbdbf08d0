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

/// Adds `filter`'s conditions to a query that has its `WHERE` already, in the dialect of
/// `$postgres`. An argument is found by its path in the job's JSON (`event_id`, `template.path`),
/// compared as text.
macro_rules! push_filter {
    ($query:expr, $filter:expr, $postgres:expr) => {{
        if let Some((path, value)) = &$filter.argument {
            // A byte search first: most documents lack the value and are never parsed.
            if $crate::dashboard::jobs::written_as_is(value, $postgres) {
                if $postgres {
                    $query.push(" AND position(convert_to(").push_bind(value.clone()).push(", 'UTF8') in job) > 0");
                } else {
                    $query.push(" AND instr(job, CAST(").push_bind(value.clone()).push(" AS BLOB)) > 0");
                }
            }
            if $postgres {
                $query.push(" AND convert_from(job, 'UTF8')::jsonb #>> string_to_array(").push_bind(path.clone());
                $query.push(", '.') = ").push_bind(value.clone());
            } else {
                $query.push(" AND CAST(json_extract(CAST(job AS TEXT), '$.' || ").push_bind(path.clone());
                $query.push(") AS TEXT) = ").push_bind(value.clone());
            }
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

/// Whether `value`, when a job's argument equals it, appears byte for byte in the job's JSON, so
/// that a document without those bytes cannot match. serde_json (apalis' codec) escapes only
/// quotes, backslashes and control characters in strings, and writes numbers as the text they
/// compare as; SQLite alone reads `true` and `false` as 1 and 0.
pub fn written_as_is(value: &str, postgres: bool) -> bool {
    !value.is_empty()
        && !value.chars().any(|c| c == '"' || c == '\\' || c.is_control())
        && (postgres || !matches!(value, "0" | "1"))
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

const LIST: Sql = Sql {
    sqlite: "SELECT id, job_type AS queue, status, attempts, max_attempts, run_at, done_at, last_result FROM Jobs",
    postgres: "SELECT id, job_type AS queue, status, attempts::bigint AS attempts, max_attempts::bigint AS max_attempts, \
               EXTRACT(EPOCH FROM run_at)::bigint AS run_at, EXTRACT(EPOCH FROM done_at)::bigint AS done_at, \
               last_result::text AS last_result FROM apalis.jobs",
};

/// The jobs `filter` matches that run before `before`, latest run time first, `limit` a page;
/// and the next page's cursor.
pub async fn list(
    db: &Db,
    filter: &JobFilter,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<JobRow>, Option<Cursor>), DashboardError> {
    check(filter)?;
    let limit = limit.clamp(1, 200);
    let postgres = matches!(db, Db::Postgres(_));
    let run_at = if postgres { "EXTRACT(EPOCH FROM run_at)::bigint" } else { "run_at" };
    // A value inside the arguments has no index: such a search reads the next
    // ARGUMENT_SEARCH_DEPTH jobs (newest first) that the other filters match, a page at a time.
    let (outer, inner) = match &filter.argument {
        Some(argument) => (
            JobFilter { argument: Some(argument.clone()), ..JobFilter::default() },
            Some(JobFilter { argument: None, ..filter.clone() }),
        ),
        None => (filter.clone(), None),
    };
    let table = table(postgres);
    let mut rows: Vec<JobRow> = on_db!(db, pool => {
        let mut query = query_builder(pool, db.sql(&LIST));
        query.push(" WHERE 1 = 1");
        if let Some(inner) = &inner {
            // PostgreSQL: an array, so the window's ids are looked up, not the table scanned.
            let (open, close) = if postgres { (" AND id = ANY(ARRAY(", "))") } else { (" AND id IN (", ")") };
            query.push(format!("{open}SELECT id FROM {table} WHERE 1 = 1"));
            push_filter!(query, inner, postgres);
            push_before!(query, before, run_at);
            query.push(" ORDER BY run_at DESC, id DESC LIMIT ").push_bind(ARGUMENT_SEARCH_DEPTH).push(close);
        } else {
            push_before!(query, before, run_at);
        }
        push_filter!(query, outer, postgres);
        // On PostgreSQL the list's `run_at` is the seconds it selects: order by the column itself,
        // which the index has, not by that expression (a sort of every match).
        let order = if postgres { " ORDER BY jobs.run_at DESC, jobs.id DESC LIMIT " } else { " ORDER BY run_at DESC, id DESC LIMIT " };
        query.push(order).push_bind(limit + 1);
        query.build_query_as().fetch_all(pool).await
    })?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match (more, &inner) {
        (true, _) => rows.last().map(|r| Cursor { at: r.run_at, id: r.id.clone() }),
        // Every match of this window is shown: the next page searches the window after it.
        (false, Some(inner)) => window_end(db, inner, before).await?,
        (false, None) => None,
    };
    Ok((rows, next))
}

/// How many jobs one page of an argument search reads.
pub const ARGUMENT_SEARCH_DEPTH: i64 = 10_000;

/// The last job of the argument-search window `filter` and `before` give, if the window is full
/// (older jobs remain to be searched).
async fn window_end(db: &Db, filter: &JobFilter, before: Option<&Cursor>) -> Result<Option<Cursor>, DashboardError> {
    let postgres = matches!(db, Db::Postgres(_));
    let run_at = if postgres { "EXTRACT(EPOCH FROM run_at)::bigint" } else { "run_at" };
    let table = table(postgres);
    let last: Option<(i64, String)> = on_db!(db, pool => {
        let mut query = query_builder(pool, &format!("SELECT {run_at}, id FROM {table} WHERE 1 = 1"));
        push_filter!(query, filter, postgres);
        push_before!(query, before, run_at);
        query.push(" ORDER BY run_at DESC, id DESC LIMIT 1 OFFSET ").push_bind(ARGUMENT_SEARCH_DEPTH - 1);
        query.build_query_as().fetch_optional(pool).await
    })?;
    Ok(last.map(|(at, id)| Cursor { at, id }))
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
pub(crate) use actions::apply_chunk;
pub use actions::{JobAction, apply, count, discard, retry_now};

#[cfg(test)]
mod tests {
    use super::written_as_is;

    #[test]
    fn a_value_is_searched_as_bytes_only_when_json_writes_it_as_is() {
        for value in ["evt_1NZ", "42", "1.5", "true", "ünïcödé", "a/b"] {
            assert!(written_as_is(value, false) && written_as_is(value, true), "{value}");
        }
        for value in ["", "say \"hi\"", "C:\\x", "two\nlines"] {
            assert!(!written_as_is(value, false) && !written_as_is(value, true), "{value:?}");
        }
        // SQLite's json_extract reads true as 1: such a value is not looked for as bytes there.
        assert!(!written_as_is("1", false) && written_as_is("1", true));
    }

    #[test]
    fn every_value_that_serde_json_writes_as_is_is_in_the_document() {
        let values =
            [serde_json::json!("evt_1NZ"), serde_json::json!(42), serde_json::json!(1.5), serde_json::json!("a/b")];
        for value in values {
            let document = serde_json::json!({ "event_id": value }).to_string();
            let text = match &value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert!(written_as_is(&text, true) && document.contains(&text), "{document}");
        }
    }
}
