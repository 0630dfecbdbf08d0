//! Bulk operations: an action on EVERYTHING a dashboard filter matches, not just a page - retry or
//! discard jobs, process webhook events again.
//!
//! The operator reads the dry-run count, confirms, and [`start`] records the operation and queues
//! the job that runs it ([`crate::jobs::RunBulk`]) in one transaction. The job walks the matching
//! rows in id order a chunk at a time; each chunk is one transaction that changes its rows and
//! writes the progress (rows done, where the walk stands), so the page shows progress while it
//! runs, the database is never held for the whole set (webhooks keep being stored in between), and
//! a node that dies mid-way loses nothing: the job runs again elsewhere and resumes at the cursor.
//! The last chunk writes the audit entry (who, what, the filter, how many rows) and the end.

use serde::{Deserialize, Serialize};

use super::{Actor, DashboardError, audit, jobs, webhooks};
use crate::{
    clock,
    db::{Db, Tx},
    jobs::RunBulk,
    on_db, on_tx,
};

/// Jobs changed per chunk (one `UPDATE ... WHERE id IN (...)`).
const JOB_CHUNK: i64 = 2_000;
/// Events queued per chunk (each also queues a job).
const EVENT_CHUNK: i64 = 500;

/// What a bulk operation does, and to which rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "filter", rename_all = "snake_case")]
pub enum BulkAction {
    RetryJobs(jobs::JobFilter),
    DiscardJobs(jobs::JobFilter),
    ProcessEventsAgain(webhooks::EventFilter),
}

impl BulkAction {
    /// Its name in the audit log.
    pub fn audit_name(&self) -> &'static str {
        match self {
            Self::RetryJobs(_) => jobs::JobAction::Retry.audit_name(),
            Self::DiscardJobs(_) => jobs::JobAction::Discard.audit_name(),
            Self::ProcessEventsAgain(_) => webhooks::PROCESS_AGAIN,
        }
    }

    /// The filter, as the audit log writes it.
    pub fn filter_text(&self) -> String {
        match self {
            Self::RetryJobs(filter) | Self::DiscardJobs(filter) => filter.to_string(),
            Self::ProcessEventsAgain(filter) => filter.to_string(),
        }
    }

    /// How many rows it would change now.
    pub async fn dry_run(&self, db: &Db) -> Result<i64, DashboardError> {
        match self {
            Self::RetryJobs(filter) => jobs::count(db, filter, jobs::JobAction::Retry).await,
            Self::DiscardJobs(filter) => jobs::count(db, filter, jobs::JobAction::Discard).await,
            Self::ProcessEventsAgain(filter) => webhooks::count_to_process_again(db, filter).await,
        }
    }

    async fn chunk(&self, tx: &mut Tx, after: Option<&str>) -> Result<(i64, Option<String>), DashboardError> {
        match self {
            Self::RetryJobs(filter) => jobs::apply_chunk(tx, filter, jobs::JobAction::Retry, after, JOB_CHUNK).await,
            Self::DiscardJobs(filter) => {
                jobs::apply_chunk(tx, filter, jobs::JobAction::Discard, after, JOB_CHUNK).await
            }
            Self::ProcessEventsAgain(filter) => webhooks::process_again_chunk(tx, filter, after, EVENT_CHUNK).await,
        }
    }
}

/// A bulk operation as the progress page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BulkOperation {
    pub id: String,
    pub action: String,
    pub filter: String,
    pub actor_email: String,
    /// The dry-run count when it was confirmed.
    pub expected: i64,
    pub done: i64,
    /// Unix ms.
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str =
    "SELECT id, action, filter, actor_email, expected, done, started_at, finished_at FROM bulk_operations";

/// Records `action` by `actor` and queues the job that runs it; returns the operation's id.
/// `expected` is the count the operator confirmed.
pub async fn start(db: &Db, actor: &Actor, action: &BulkAction, expected: i64) -> Result<String, DashboardError> {
    if let BulkAction::RetryJobs(filter) | BulkAction::DiscardJobs(filter) = action {
        jobs::check(filter)?;
    }
    let id = ulid::Ulid::generate().to_string();
    let spec = serde_json::to_string(action).map_err(|e| DashboardError::Corrupt(e.to_string()))?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(
            "INSERT INTO bulk_operations (id, action, filter, spec, actor_id, actor_email, expected, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(action.audit_name())
        .bind(action.filter_text())
        .bind(&spec)
        .bind(actor.user_id)
        .bind(&actor.email)
        .bind(expected)
        .bind(clock::now_ms())
        .execute(conn)
        .await
        .map(drop)
    })?;
    crate::jobs::enqueue(&mut tx, &[RunBulk { operation_id: id.clone() }]).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<BulkOperation>, DashboardError> {
    let sql = format!("{COLUMNS} WHERE id = $1");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await)?)
}

/// The latest operations, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<BulkOperation>, DashboardError> {
    let sql = format!("{COLUMNS} ORDER BY started_at DESC, id DESC LIMIT $1");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await)?)
}

/// What the job reads of its operation.
#[derive(Debug, sqlx::FromRow)]
struct Progress {
    spec: String,
    actor_id: i64,
    actor_email: String,
    done: i64,
    cursor: Option<String>,
    finished_at: Option<i64>,
}

/// Runs operation `id` chunk by chunk to its end (the job's work); resumes where an earlier run
/// stopped, and does nothing for a finished operation.
pub async fn run(db: &Db, id: &str) -> Result<(), DashboardError> {
    loop {
        // Read, then write: on SQLite the write lock is taken at once, or a writer in between
        // would fail the chunk with "database is locked".
        let mut tx = db.begin().await?;
        let progress: Option<Progress> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT spec, actor_id, actor_email, done, cursor, finished_at FROM bulk_operations WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(conn)
            .await
        })?;
        let progress = progress.ok_or(DashboardError::NotFound("bulk operation"))?;
        if progress.finished_at.is_some() {
            return Ok(());
        }
        let action: BulkAction =
            serde_json::from_str(&progress.spec).map_err(|e| DashboardError::Corrupt(e.to_string()))?;
        let (changed, last) = action.chunk(&mut tx, progress.cursor.as_deref()).await?;
        let done = progress.done.saturating_add(changed);
        let finished = last.is_none();
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE bulk_operations SET done = $2, cursor = COALESCE($3, cursor), finished_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(done)
            .bind(&last)
            .bind(finished.then(clock::now_ms))
            .execute(conn)
            .await
            .map(drop)
        })?;
        if finished {
            let actor = Actor { user_id: progress.actor_id, email: progress.actor_email };
            audit::record(&mut tx, &actor, action.audit_name(), &action.filter_text(), done).await?;
        }
        tx.commit().await?;
        if finished {
            return Ok(());
        }
    }
}
