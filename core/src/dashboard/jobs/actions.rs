//! What operators do to jobs: retry now and discard, for one job or for everything a filter
//! matches (at once, or a chunk at a time for a bulk operation: see `dashboard::bulk`).

use super::{ARGUMENTS, JobFilter, check, table};
use crate::{
    clock,
    dashboard::{Actor, DashboardError, audit},
    db::{Db, Tx, query_builder},
    jobs::wakeups,
    on_db, on_tx,
};

/// What an operator does to jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// Run again now (a failed or discarded job), with one more attempt if it had none left.
    Retry,
    /// Give up on a waiting job (or a failed one waiting to retry): it will not run.
    Discard,
}

impl JobAction {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "retry" => Some(Self::Retry),
            "discard" => Some(Self::Discard),
            _ => None,
        }
    }

    /// Its name in the audit log.
    pub fn audit_name(self) -> &'static str {
        match self {
            Self::Retry => "job.retry",
            Self::Discard => "job.discard",
        }
    }

    /// The states it applies to.
    pub(super) fn states(self) -> &'static [&'static str] {
        match self {
            Self::Retry => &["Failed", "Killed"],
            Self::Discard => &["Pending", "Queued", "Failed"],
        }
    }

    /// [`JobAction::states`] as SQL.
    fn eligible(self) -> String {
        let quoted: Vec<String> = self.states().iter().map(|s| format!("'{s}'")).collect();
        format!("status IN ({})", quoted.join(", "))
    }

    /// The change, up to the one value bound after it (now, in unix seconds).
    fn set(self, postgres: bool) -> (&'static str, &'static str) {
        match (self, postgres) {
            (Self::Retry, false) => (
                "status = 'Pending', done_at = NULL, lock_at = NULL, lock_by = NULL, \
                 max_attempts = MAX(max_attempts, attempts + 1), run_at = ",
                "",
            ),
            (Self::Retry, true) => (
                "status = 'Pending', done_at = NULL, lock_at = NULL, lock_by = NULL, \
                 max_attempts = GREATEST(max_attempts, attempts + 1), run_at = to_timestamp(",
                ")",
            ),
            (Self::Discard, false) => ("status = 'Killed', lock_at = NULL, lock_by = NULL, done_at = ", ""),
            (Self::Discard, true) => {
                ("status = 'Killed', lock_at = NULL, lock_by = NULL, done_at = to_timestamp(", ")")
            }
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Self::Retry => "only a failed or discarded job can be retried",
            Self::Discard => "a running or finished job cannot be discarded",
        }
    }
}

/// How many jobs `action` on `filter` would touch now (the dry run before a bulk action).
pub async fn count(db: &Db, filter: &JobFilter, action: JobAction) -> Result<i64, DashboardError> {
    check(filter)?;
    let postgres = matches!(db, Db::Postgres(_));
    let table = table(postgres);
    let counted: i64 = on_db!(db, pool => {
        let mut query = query_builder(pool, &format!("SELECT COUNT(*) FROM {table} WHERE {}", action.eligible()));
        push_filter!(query, filter);
        query.build_query_scalar().fetch_one(pool).await
    })?;
    Ok(counted)
}

/// Does `action` to every job `filter` matches that it applies to, as one statement in one
/// transaction with its audit entry; returns how many it touched.
pub async fn apply(db: &Db, actor: &Actor, filter: &JobFilter, action: JobAction) -> Result<i64, DashboardError> {
    check(filter)?;
    let mut tx = db.begin().await?;
    let postgres = matches!(tx, crate::db::Tx::Postgres(_));
    let (set, close) = action.set(postgres);
    let now = clock::now_ms() / 1000;
    let statement = format!("UPDATE {} SET {set}", table(postgres));
    let changed = on_tx!(&mut tx, conn => {
        let mut query = sqlx::QueryBuilder::new(statement.as_str());
        query.push_bind(now).push(close).push(" WHERE ").push(action.eligible().as_str());
        push_filter!(query, filter);
        query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
    })?;
    let changed = i64::try_from(changed).unwrap_or(i64::MAX);
    if changed == 0
        && let Some(id) = &filter.id
    {
        let sql = tx.sql(&ARGUMENTS);
        let exists: Option<String> =
            on_tx!(&mut tx, conn => sqlx::query_scalar(sql).bind(id).fetch_optional(conn).await)?;
        return Err(if exists.is_some() {
            DashboardError::WrongState(action.refusal())
        } else {
            DashboardError::NotFound("job")
        });
    }
    if action == JobAction::Retry {
        wakeups::wake_all_after_commit(&mut tx).await?;
    }
    audit::record(&mut tx, actor, action.audit_name(), &filter.to_string(), changed).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Runs failed (or discarded) job `id` again now.
pub async fn retry_now(db: &Db, actor: &Actor, id: &str) -> Result<(), DashboardError> {
    let filter = JobFilter { id: Some(id.to_owned()), ..JobFilter::default() };
    apply(db, actor, &filter, JobAction::Retry).await.map(|_| ())
}

/// Gives up on waiting job `id`.
pub async fn discard(db: &Db, actor: &Actor, id: &str) -> Result<(), DashboardError> {
    let filter = JobFilter { id: Some(id.to_owned()), ..JobFilter::default() };
    apply(db, actor, &filter, JobAction::Discard).await.map(|_| ())
}

/// Does `action` to the next `limit` jobs (in id order, after `after`) that `filter` matches and
/// it applies to, inside `tx`: one chunk of a bulk operation. Returns how many it changed and the
/// last id it looked at, where the next chunk starts (None: nothing was left). Walking by id, each
/// job is looked at once however often it changes state meanwhile (a retried job that fails
/// again is not retried twice by one operation).
pub(crate) async fn apply_chunk(
    tx: &mut Tx,
    filter: &JobFilter,
    action: JobAction,
    after: Option<&str>,
    limit: i64,
) -> Result<(i64, Option<String>), DashboardError> {
    check(filter)?;
    let postgres = matches!(tx, Tx::Postgres(_));
    let table = table(postgres);
    let select = format!("SELECT id FROM {table} WHERE {}", action.eligible());
    let ids: Vec<String> = on_tx!(tx, conn => {
        let mut query = sqlx::QueryBuilder::new(select.as_str());
        push_filter!(query, filter);
        if let Some(after) = after {
            query.push(" AND id > ").push_bind(after.to_owned());
        }
        query.push(" ORDER BY id LIMIT ").push_bind(limit);
        query.build_query_scalar().fetch_all(&mut *conn).await
    })?;
    let Some(last) = ids.last().cloned() else {
        return Ok((0, None));
    };
    let (set, close) = action.set(postgres);
    let now = clock::now_ms() / 1000;
    let update = format!("UPDATE {table} SET {set}");
    let changed = on_tx!(tx, conn => {
        let mut query = sqlx::QueryBuilder::new(update.as_str());
        query.push_bind(now).push(close).push(" WHERE ").push(action.eligible().as_str()).push(" AND id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(id);
        }
        query.push(")");
        query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
    })?;
    if action == JobAction::Retry && changed > 0 {
        wakeups::wake_all_after_commit(tx).await?;
    }
    Ok((i64::try_from(changed).unwrap_or(i64::MAX), Some(last)))
}
