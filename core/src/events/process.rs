//! One stored event through its handler, exactly once in effect however often the job runs.

use serde_json::Value;

use super::{mirror, queue_for, reactions};
use crate::{
    clock,
    db::Db,
    jobs::{self, RefreshObject},
    on_db, on_tx,
};

#[derive(Debug, PartialEq, Eq)]
pub enum ProcessOutcome {
    /// The handler ran and its effect is committed.
    Processed,
    /// Nothing to do: processed (or ignored) before, by this job's earlier run or another node.
    AlreadyDone,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("event {0} is not stored")]
    NotFound(String),
    #[error("the event's payload cannot be handled: {0}")]
    BadPayload(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queueing a read of the object: {0}")]
    Enqueue(#[from] crate::jobs::EnqueueError),
}

/// The statuses from which an event is (still) to be processed, in a `WHERE` clause:
/// `processing` is what a crash of an earlier version, which committed it first, may have left.
macro_rules! unfinished {
    () => {
        "status IN ('received', 'queued', 'failed', 'processing')"
    };
}

/// Marks the event `processed` and runs its handler in one transaction: both commit, or neither,
/// and a crash or an error leaves the event as it was, for the job's next run.
async fn complete(db: &Db, event_id: &str, now: i64) -> Result<ProcessOutcome, ProcessError> {
    let mut tx = db.begin().await?;
    // Claim it first (a write, so SQLite takes its write lock at once and PostgreSQL locks the
    // row, making a concurrent run on another node wait and then find nothing to claim).
    let claimed: Option<(String, i64, String)> = on_tx!(&mut tx, conn => {
        sqlx::query_as(concat!(
            "UPDATE webhook_events SET status = 'processed', processed_count = processed_count + 1, \
             status_changed_at = $2, error = NULL WHERE id = $1 AND ",
            unfinished!(),
            " RETURNING event_type, created, payload",
        ))
        .bind(event_id)
        .bind(now)
        .fetch_optional(conn)
        .await
    })?;
    let Some((event_type, created, payload)) = claimed else {
        return Ok(ProcessOutcome::AlreadyDone);
    };
    if queue_for(&event_type).is_none() {
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE webhook_events SET status = 'ignored' WHERE id = $1").bind(event_id).execute(conn).await.map(|_| ())
        })?;
    } else {
        let payload: Value = serde_json::from_str(&payload).map_err(|e| ProcessError::BadPayload(e.to_string()))?;
        let object =
            payload.pointer("/data/object").ok_or_else(|| ProcessError::BadPayload("no data.object".into()))?;
        let source = mirror::SourceEvent { id: event_id, event_type: &event_type, created, object };
        if mirror::apply(&mut tx, &source, now).await? {
            // Two changes within one second: which is newer is a guess until Stripe is asked.
            let kind = mirror::MirroredKind::of_event(&event_type);
            let id = object.get("id").and_then(Value::as_str);
            if let (Some(kind), Some(id)) = (kind, id) {
                let refresh = RefreshObject { kind, id: id.to_owned() };
                jobs::enqueue_because(&mut tx, jobs::Cause::Event(event_id), &[refresh]).await?;
            }
        }
        reactions::react(&mut tx, &source).await?;
    }
    tx.commit().await?;
    Ok(ProcessOutcome::Processed)
}

/// Runs the handler of stored event `event_id`. Safe to call any number of times, from any node.
///
/// One write transaction per event: a handler only reads and writes this database (slow work,
/// such as reading an object back from Stripe, is a job of its own), so there is no long work in
/// progress to show by committing `processing` first - and on SQLite, where every commit takes
/// the one write lock, a second commit per event would cost every other writer a turn.
pub async fn process_event(db: &Db, event_id: &str) -> Result<ProcessOutcome, ProcessError> {
    let result = complete(db, event_id, clock::now_ms()).await;
    match &result {
        Ok(ProcessOutcome::AlreadyDone) => {
            let status: Option<String> = on_db!(db, pool => {
                sqlx::query_scalar("SELECT status FROM webhook_events WHERE id = $1").bind(event_id).fetch_optional(pool).await
            })?;
            if status.is_none() {
                return Err(ProcessError::NotFound(event_id.to_owned()));
            }
        }
        Ok(ProcessOutcome::Processed) => {}
        Err(e) => {
            let message = e.to_string();
            let _turn = db.write_turn().await;
            let _ = on_db!(db, pool => {
                sqlx::query(concat!(
                    "UPDATE webhook_events SET status = 'failed', error = $2, status_changed_at = $3 WHERE id = $1 AND ",
                    unfinished!(),
                ))
                .bind(event_id)
                .bind(message)
                .bind(clock::now_ms())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            });
        }
    }
    result
}
