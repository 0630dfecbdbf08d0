//! The jobs list: the rows a filter matches, a keyset page at a time, newest run time first (or
//! newest queued first for a search inside the arguments), and how the database plans that read.

use super::{Cursor, DashboardError, JobFilter, JobRow, LIST, check};
use crate::{
    db::{Db, Sql, query_builder},
    on_db,
};

/// [`LIST`] from the argument index: the jobs holding one value at one path, walked newest
/// queued first (ids are ULIDs) - a page reads about as many index entries as it shows when the
/// other filters match most of them. SQLite's `CROSS JOIN` keeps the index as the outer loop.
const LIST_BY_ARGUMENT: Sql = Sql {
    sqlite: "SELECT id, job_type AS queue, status, attempts, max_attempts, run_at, done_at, last_result \
             FROM job_arguments a CROSS JOIN Jobs ON Jobs.id = a.task_id WHERE a.path = ",
    postgres: "SELECT id, job_type AS queue, status, attempts::bigint AS attempts, max_attempts::bigint AS max_attempts, \
               EXTRACT(EPOCH FROM run_at)::bigint AS run_at, EXTRACT(EPOCH FROM done_at)::bigint AS done_at, \
               last_result::text AS last_result \
               FROM job_arguments a JOIN apalis.jobs ON jobs.id = a.task_id WHERE a.path = ",
};

/// The statement [`list`] runs for `filter` after `$before` with `$limit` rows a page, as a
/// query builder of `$pool`'s database, behind `$prefix` (empty, or an `EXPLAIN`).
macro_rules! list_query {
    ($pool:expr, $db:expr, $prefix:expr, $filter:expr, $before:expr, $limit:expr) => {{
        let (filter, before): (&JobFilter, Option<&Cursor>) = ($filter, $before);
        let postgres = matches!($db, Db::Postgres(_));
        let mut query = match &filter.argument {
            Some((path, value)) => {
                let mut query = query_builder($pool, &format!("{}{}", $prefix, $db.sql(&LIST_BY_ARGUMENT)));
                query.push_bind(path.clone()).push(" AND a.value = ").push_bind(value.clone());
                if let Some(cursor) = before {
                    query.push(" AND a.task_id < ").push_bind(cursor.id.clone());
                }
                let others = JobFilter { argument: None, ..filter.clone() };
                push_filter!(query, others);
                query.push(" ORDER BY a.task_id DESC");
                query
            }
            None => {
                let run_at = if postgres { "EXTRACT(EPOCH FROM run_at)::bigint" } else { "run_at" };
                let mut query = query_builder($pool, &format!("{}{}", $prefix, $db.sql(&LIST)));
                query.push(" WHERE 1 = 1");
                push_before!(query, before, run_at);
                push_filter!(query, filter);
                // On PostgreSQL the list's `run_at` is the seconds it selects: order by the
                // column itself, which the index has, not by that expression (a sort of every match).
                query.push(if postgres {
                    " ORDER BY jobs.run_at DESC, jobs.id DESC"
                } else {
                    " ORDER BY run_at DESC, id DESC"
                });
                query
            }
        };
        // The page size is written into the statement, as a planner sees a LIMIT best (SQLite
        // weighs one only when it is a literal). The newest-first walk down
        // `billhook_jobs_run_at_id` on SQLite rests on the statistics `jobs::schema` writes
        // (docs/benchmarks.md, session 10).
        query.push(format!(" LIMIT {}", $limit + 1));
        query
    }};
}

/// The jobs `filter` matches after keyset cursor `before`, `limit` a page, and the next page's
/// cursor: latest run time first; for a search inside the arguments, latest queued first.
pub async fn list(
    db: &Db,
    filter: &JobFilter,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<JobRow>, Option<Cursor>), DashboardError> {
    check(filter)?;
    let limit = limit.clamp(1, 200);
    let rows: Vec<JobRow> = on_db!(db, pool => {
        list_query!(pool, db, "", filter, before, limit).build_query_as().fetch_all(pool).await
    })?;
    Ok(Cursor::page(rows, limit, |r| (r.run_at, &r.id)))
}

/// How the database would run [`list`]'s first page for `filter` - SQLite's `EXPLAIN QUERY
/// PLAN`, PostgreSQL's `EXPLAIN` - one line per step: for the tests that check a page reads an
/// index rather than sorting the table.
#[doc(hidden)]
pub async fn explain_list(db: &Db, filter: &JobFilter, limit: i64) -> Result<String, DashboardError> {
    use sqlx::Row;
    check(filter)?;
    let prefix = if matches!(db, Db::Postgres(_)) { "EXPLAIN " } else { "EXPLAIN QUERY PLAN " };
    let lines: Vec<String> = on_db!(db, pool => {
        let rows = list_query!(pool, db, prefix, filter, None, limit.clamp(1, 200)).build().fetch_all(pool).await?;
        // The step is the last column: SQLite's `detail`, PostgreSQL's only one.
        rows.iter().map(|row| row.try_get(row.len() - 1)).collect::<Result<_, _>>()
    })?;
    Ok(lines.join("\n"))
}
