//! The webhooks pages: stored events filtered by type, status, object, event id and date, newest
//! first in keyset pages; one event with its payload, headers, deliveries and processing; and
//! "process again".

use billhook_model::EventStatus;

use super::{Actor, Cursor, DashboardError, audit};
use crate::{
    clock,
    db::{Db, Tx, query_builder},
    events::queue_for,
    jobs::{self, ProcessEvent},
    on_db, on_tx,
};

/// What the list shows; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub status: Option<EventStatus>,
    /// The Stripe object the event is about (`sub_...`).
    pub object_id: Option<String>,
    pub event_id: Option<String>,
    /// Received at or after (unix ms).
    pub from: Option<i64>,
    /// Received before (unix ms).
    pub to: Option<i64>,
}

impl std::fmt::Display for EventFilter {
    /// As the audit log writes it: `status=failed type=invoice.paid`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            self.event_type.as_ref().map(|v| format!("type={v}")),
            self.status.map(|v| format!("status={}", v.as_str())),
            self.object_id.as_ref().map(|v| format!("object={v}")),
            self.event_id.as_ref().map(|v| format!("event={v}")),
            self.from.map(|v| format!("from={v}")),
            self.to.map(|v| format!("to={v}")),
        ];
        let parts: Vec<String> = parts.into_iter().flatten().collect();
        if parts.is_empty() { f.write_str("all") } else { f.write_str(&parts.join(" ")) }
    }
}

/// Adds `filter`'s conditions to a query that has its `WHERE` already.
macro_rules! push_filter {
    ($query:expr, $filter:expr) => {{
        if let Some(id) = &$filter.event_id {
            $query.push(" AND id = ").push_bind(id.clone());
        }
        if let Some(kind) = &$filter.event_type {
            $query.push(" AND event_type = ").push_bind(kind.clone());
        }
        if let Some(status) = $filter.status {
            $query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(object) = &$filter.object_id {
            $query.push(" AND object_id = ").push_bind(object.clone());
        }
        if let Some(from) = $filter.from {
            $query.push(" AND received_at >= ").push_bind(from);
        }
        if let Some(to) = $filter.to {
            $query.push(" AND received_at < ").push_bind(to);
        }
    }};
}

/// One stored event in the list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub status: EventStatus,
    pub object_id: Option<String>,
    /// Stripe's stamp (unix seconds).
    pub created: i64,
    /// First received (unix ms).
    pub received_at: i64,
    pub delivery_count: i64,
    /// `webhook` or `reconciliation`.
    pub source: String,
    pub error: Option<String>,
}

const COLUMNS: &str =
    "SELECT id, event_type, status, object_id, created, received_at, delivery_count, source, error FROM webhook_events";

/// The newest `limit` events matching `filter` received before `before` (the cursor of the page
/// shown), and the next page's cursor if there is more. Each filter has an index to match.
pub async fn list(
    db: &Db,
    filter: &EventFilter,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<EventRow>, Option<Cursor>), DashboardError> {
    let limit = limit.clamp(1, 200);
    let rows: Vec<EventRow> = on_db!(db, pool => {
        let mut query = query_builder(pool, COLUMNS);
        query.push(" WHERE 1 = 1");
        push_filter!(query, filter);
        if let Some(cursor) = before {
            query.push(" AND (received_at < ").push_bind(cursor.at);
            query.push(" OR (received_at = ").push_bind(cursor.at);
            query.push(" AND id < ").push_bind(cursor.id.clone()).push("))");
        }
        query.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(limit + 1);
        query.build_query_as().fetch_all(pool).await
    })?;
    Ok(Cursor::page(rows, limit, |r| (r.received_at, &r.id)))
}

/// One event, everything stored of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDetail {
    pub row: EventRow,
    pub api_version: Option<String>,
    /// The body as Stripe sent it, indented for reading.
    pub payload: String,
    /// The delivery's headers, by name.
    pub headers: Vec<(String, String)>,
    /// Last delivered (unix ms); more than one delivery means Stripe sent it again.
    pub last_received_at: i64,
    /// When the status last changed (unix ms).
    pub status_changed_at: Option<i64>,
    /// Times a handler's effect committed (1 at most, however often its job ran).
    pub processed_count: i64,
    /// The queue its handler runs on, or None: no handler (stored and ignored).
    pub queue: Option<&'static str>,
}

#[derive(sqlx::FromRow)]
struct Stored {
    #[sqlx(flatten)]
    row: EventRow,
    api_version: Option<String>,
    payload: String,
    headers: String,
    last_received_at: i64,
    status_changed_at: Option<i64>,
    processed_count: i64,
}

/// Event `id`, if it is stored.
pub async fn detail(db: &Db, id: &str) -> Result<Option<EventDetail>, DashboardError> {
    let stored: Option<Stored> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, event_type, status, object_id, created, received_at, delivery_count, source, error, \
             api_version, payload, headers, last_received_at, status_changed_at, processed_count \
             FROM webhook_events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(stored.map(|s| {
        let payload = serde_json::from_str::<serde_json::Value>(&s.payload)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(s.payload);
        let headers = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&s.headers)
            .map(|map| {
                map.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()
            })
            .unwrap_or_default();
        EventDetail {
            queue: queue_for(&s.row.event_type),
            row: s.row,
            api_version: s.api_version,
            payload,
            headers,
            last_received_at: s.last_received_at,
            status_changed_at: s.status_changed_at,
            processed_count: s.processed_count,
        }
    }))
}

/// "Process again" in the audit log.
pub const PROCESS_AGAIN: &str = "webhook.process_again";

/// Queues event `id`'s handler again (a fix deployed, a failure understood). Safe for an event
/// already processed: handlers are idempotent and out-of-order safe, and its mails keep their
/// ids. Refused for an event without a handler. Recorded in the audit log with the action.
pub async fn process_again(db: &Db, actor: &Actor, id: &str) -> Result<(), DashboardError> {
    let mut tx = db.begin().await?;
    let event_type: Option<String> = on_tx!(&mut tx, conn => {
        sqlx::query_scalar(
            "UPDATE webhook_events SET status = 'queued', status_changed_at = $2, error = NULL \
             WHERE id = $1 AND status <> 'ignored' RETURNING event_type",
        )
        .bind(id)
        .bind(clock::now_ms())
        .fetch_optional(conn)
        .await
    })?;
    let Some(event_type) = event_type else {
        let ignored: Option<String> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT event_type FROM webhook_events WHERE id = $1").bind(id).fetch_optional(conn).await
        })?;
        return Err(ignored.map_or(DashboardError::NotFound("event"), DashboardError::NoHandler));
    };
    let job = ProcessEvent::for_event(id, &event_type).ok_or_else(|| DashboardError::NoHandler(event_type.clone()))?;
    jobs::enqueue(&mut tx, &[job]).await?;
    audit::record(&mut tx, actor, PROCESS_AGAIN, id, 1).await?;
    tx.commit().await?;
    Ok(())
}

/// How many events "process again" would queue among those `filter` matches (the dry run of the
/// bulk operation): all but the ignored ones, which have no handler.
pub async fn count_to_process_again(db: &Db, filter: &EventFilter) -> Result<i64, DashboardError> {
    Ok(on_db!(db, pool => {
        let mut query = query_builder(pool, "SELECT COUNT(*) FROM webhook_events WHERE status <> 'ignored'");
        push_filter!(query, filter);
        query.build_query_scalar().fetch_one(pool).await
    })?)
}

/// Queues the next `limit` events (in id order, after `after`) that `filter` matches to be
/// processed again, inside `tx`: one chunk of a bulk operation. Returns how many it queued and
/// the last id it looked at (None: nothing was left).
pub(crate) async fn process_again_chunk(
    tx: &mut Tx,
    filter: &EventFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<(i64, Option<String>), DashboardError> {
    let events: Vec<(String, String)> = on_tx!(tx, conn => {
        let mut query = sqlx::QueryBuilder::new("SELECT id, event_type FROM webhook_events WHERE status <> 'ignored'");
        push_filter!(query, filter);
        if let Some(after) = after {
            query.push(" AND id > ").push_bind(after.to_owned());
        }
        query.push(" ORDER BY id LIMIT ").push_bind(limit);
        query.build_query_as().fetch_all(&mut *conn).await
    })?;
    let Some(last) = events.last().map(|(id, _)| id.clone()) else {
        return Ok((0, None));
    };
    let jobs: Vec<ProcessEvent> =
        events.iter().filter_map(|(id, event_type)| ProcessEvent::for_event(id, event_type)).collect();
    let now = clock::now_ms();
    on_tx!(tx, conn => {
        let mut query = sqlx::QueryBuilder::new("UPDATE webhook_events SET status = 'queued', status_changed_at = ");
        query.push_bind(now).push(", error = NULL WHERE id IN (");
        let mut list = query.separated(", ");
        for job in &jobs {
            list.push_bind(job.event_id.clone());
        }
        query.push(")");
        query.build().execute(&mut *conn).await.map(drop)
    })?;
    jobs::enqueue(&mut *tx, &jobs).await?;
    Ok((i64::try_from(jobs.len()).unwrap_or(i64::MAX), Some(last)))
}
