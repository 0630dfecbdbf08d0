//! The webhook inbox: stores each verified delivery before it is acknowledged, deduplicated by
//! event id, with as few commits as possible.
//!
//! Group commit: request handlers hand their delivery to a writer task and wait for its answer;
//! the writer takes everything that has arrived (up to `max_batch`), writes it with ONE
//! multi-row upsert in ONE transaction, commits, then answers each waiting handler. Under load
//! many deliveries share a commit; alone, a delivery is committed at once (no timer). Nothing is
//! acknowledged before its commit, and a failed commit fails every delivery in it (503, Stripe
//! retries). A stored event is only recorded (`received`); the workers' dispatchers queue it
//! (`jobs::dispatch`), so acknowledging costs one row per event.
//!
//! When the database is down, refusals must be quick too: a write gives up after
//! [`WRITE_TIMEOUT`] (not the pool's longer acquire timeout), and after a failure the writer
//! refuses at once for [`PROBE_AFTER`] before it tries the database again. A write cut off by the
//! timeout may still have committed; its deliveries were refused, so Stripe retries them and finds
//! the event stored once (a duplicate).

use std::{collections::BTreeMap, sync::LazyLock, time::Duration};

use tokio::sync::{Mutex, mpsc, oneshot};

use super::EventEnvelope;
use billhook_model::EventStatus;

use crate::{
    activity::{Activity, Tally},
    db::Db,
    events::queue_for,
    jobs,
};

/// One verified delivery to store.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: EventEnvelope,
    /// The body exactly as received (Stripe sends UTF-8 JSON; it was parsed as such).
    pub payload: String,
    /// The delivery's headers as a JSON object.
    pub headers: String,
    pub received_at_ms: i64,
}

/// What storing a delivery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The first delivery of this event: it is stored and will be processed.
    First,
    /// The event was already stored; its delivery count is now `delivery_count`.
    Duplicate { delivery_count: i64 },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum InboxError {
    #[error("the database did not take the delivery: {0}")]
    Database(String),
    #[error("the database is unavailable; retrying it shortly")]
    Unavailable,
    #[error("the webhook writer has stopped")]
    Stopped,
}

/// The longest a batch may take to be stored before its deliveries are refused.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failed write, deliveries are refused at once for this long; then the next batch
/// tries the database again.
pub const PROBE_AFTER: Duration = Duration::from_millis(500);

type Reply = oneshot::Sender<Result<Recorded, InboxError>>;

/// Handle to the writer tasks; cheap to clone.
#[derive(Debug, Clone)]
pub struct WebhookInbox {
    tx: mpsc::Sender<(Delivery, Reply)>,
    /// The events received and the deliveries repeated (the dashboard's charts).
    tally: Tally,
}

/// Tuning for the writers.
#[derive(Debug, Clone, Copy)]
pub struct InboxOptions {
    /// Writer tasks. SQLite has one writer at a time anyway; PostgreSQL overlaps commits.
    pub writers: usize,
    /// Most deliveries in one commit.
    pub max_batch: usize,
    /// Deliveries waiting for a writer before handlers wait for room.
    pub queue: usize,
}

impl InboxOptions {
    pub fn for_db(db: &Db) -> Self {
        let writers = match db.kind() {
            crate::DbKind::Sqlite => 1,
            crate::DbKind::Postgres => 4,
        };
        Self { writers, max_batch: 256, queue: 4096 }
    }
}

impl WebhookInbox {
    /// Starts the writer tasks on the current runtime.
    pub fn start(db: Db, options: InboxOptions) -> Self {
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let tally = Tally::default();
        let announcer = jobs::dispatch::Announcer::start(&db);
        for _ in 0..options.writers.max(1) {
            tokio::spawn(writer(db.clone(), rx.clone(), options.max_batch.max(1), tally.clone(), announcer.clone()));
        }
        Self { tx, tally }
    }

    /// This node's counts of what it stored, for [`Tally::flush_until`].
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Stores `delivery` durably (or says why not).
    pub async fn record(&self, delivery: Delivery) -> Result<Recorded, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((delivery, reply)).await.map_err(|_| InboxError::Stopped)?;
        answer.await.map_err(|_| InboxError::Stopped)?
    }
}

/// A writer task: stores batches until every sender is gone; `announcer` tells the dispatchers
/// when a batch recorded new events.
async fn writer(
    db: Db,
    rx: std::sync::Arc<Mutex<mpsc::Receiver<(Delivery, Reply)>>>,
    max_batch: usize,
    tally: Tally,
    announcer: jobs::dispatch::Announcer,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut refuse_until: Option<tokio::time::Instant> = None;
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, max_batch).await == 0 {
                return; // every sender is gone: the app is shutting down
            }
        }
        let (deliveries, replies): (Vec<Delivery>, Vec<Reply>) = batch.drain(..).unzip();
        if refuse_until.is_some_and(|until| tokio::time::Instant::now() < until) {
            for reply in replies {
                let _ = reply.send(Err(InboxError::Unavailable));
            }
            continue;
        }
        let error = match tokio::time::timeout(WRITE_TIMEOUT, write_batch(&db, &deliveries)).await {
            Ok(Ok((outcomes, recorded))) => {
                refuse_until = None;
                let first = outcomes.iter().filter(|o| matches!(o, Recorded::First)).count();
                let first = i64::try_from(first).unwrap_or(i64::MAX);
                let all = i64::try_from(outcomes.len()).unwrap_or(i64::MAX);
                tally.add(Activity::WebhookReceived, "", first);
                tally.add(Activity::WebhookRepeated, "", all - first);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
                if recorded {
                    announcer.announce();
                }
                continue;
            }
            Ok(Err(e)) => InboxError::Database(e.to_string()),
            Err(_) => InboxError::Database(format!("no answer within {WRITE_TIMEOUT:?}")),
        };
        tracing::error!(error = %error, deliveries = deliveries.len(), "storing webhook deliveries failed");
        refuse_until = Some(tokio::time::Instant::now() + PROBE_AFTER);
        for reply in replies {
            let _ = reply.send(Err(error.clone()));
        }
    }
}

/// Deliveries of one event within a batch: stored once, counted `count` times.
struct Group<'a> {
    first: &'a Delivery,
    last_received_at_ms: i64,
    count: i64,
}

/// Upserts a batch in one statement (its own transaction); returns each delivery's outcome in
/// order, and whether the batch recorded an event for the dispatchers to queue (`received`: a
/// new event with a handler; one without is stored `ignored`).
async fn write_batch(db: &Db, deliveries: &[Delivery]) -> sqlx::Result<(Vec<Recorded>, bool)> {
    // One row per event id, in id order (a fixed lock order: concurrent batches cannot deadlock).
    let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    for d in deliveries {
        groups
            .entry(d.envelope.id.as_str())
            .and_modify(|g| {
                g.count += 1;
                g.last_received_at_ms = g.last_received_at_ms.max(d.received_at_ms);
            })
            .or_insert(Group { first: d, last_received_at_ms: d.received_at_ms, count: 1 });
    }

    const INSERT: &str = "INSERT INTO webhook_events (id, event_type, api_version, created, livemode, object_id, \
         payload, headers, received_at, last_received_at, delivery_count, status) ";
    const UPSERT: &str = " ON CONFLICT (id) DO UPDATE SET \
         delivery_count = webhook_events.delivery_count + excluded.delivery_count, \
         last_received_at = excluded.last_received_at \
         RETURNING id, delivery_count, source, status";
    let rows: Vec<&Group<'_>> = groups.values().collect();
    // The status a NEW row gets; a duplicate's status is left as it is.
    let status = |g: &Group<'_>| match queue_for(&g.first.envelope.event_type) {
        Some(_) => EventStatus::Received,
        None => EventStatus::Ignored,
    };
    let stored: Vec<(String, i64, String, EventStatus)> = match db {
        Db::Sqlite(sqlite) => {
            let mut qb = sqlx::QueryBuilder::new(INSERT);
            qb.push_values(rows.iter(), |mut row, g| {
                let e = &g.first.envelope;
                row.push_bind(e.id.as_str())
                    .push_bind(e.event_type.as_str())
                    .push_bind(e.api_version.as_deref())
                    .push_bind(e.created)
                    .push_bind(e.livemode)
                    .push_bind(e.object_id.as_deref())
                    .push_bind(g.first.payload.as_str())
                    .push_bind(g.first.headers.as_str())
                    .push_bind(g.first.received_at_ms)
                    .push_bind(g.last_received_at_ms)
                    .push_bind(g.count)
                    .push_bind(status(g).as_str());
            });
            qb.push(UPSERT);
            // In turn with Billhook's other writers (`db::write_turns`).
            let _turn = db.write_turn().await?;
            qb.build_query_as().fetch_all(sqlite.pool()).await?
        }
        // The columns as arrays: one statement text whatever the batch's size, parsed and planned
        // once per connection (a VALUES list of each new length is planned anew).
        Db::Postgres(pool) => {
            static STATEMENT: LazyLock<String> = LazyLock::new(|| {
                format!(
                    "{INSERT} SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::bool[], \
                     $6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::text[]) {UPSERT}"
                )
            });
            macro_rules! column {
                ($g:ident => $value:expr) => {
                    rows.iter().map(|$g| $value).collect::<Vec<_>>()
                };
            }
            sqlx::query_as(STATEMENT.as_str())
                .bind(column!(g => g.first.envelope.id.as_str()))
                .bind(column!(g => g.first.envelope.event_type.as_str()))
                .bind(column!(g => g.first.envelope.api_version.as_deref()))
                .bind(column!(g => g.first.envelope.created))
                .bind(column!(g => g.first.envelope.livemode))
                .bind(column!(g => g.first.envelope.object_id.as_deref()))
                .bind(column!(g => g.first.payload.as_str()))
                .bind(column!(g => g.first.headers.as_str()))
                .bind(column!(g => g.first.received_at_ms))
                .bind(column!(g => g.last_received_at_ms))
                .bind(column!(g => g.count))
                .bind(column!(g => status(g).as_str()))
                .fetch_all(pool)
                .await?
        }
    };
    // id -> (stored delivery count, whether this batch inserted the row). New iff the count is
    // exactly this batch's and the row is a delivery's (reconciliation stores with count 0).
    let mut recorded = false;
    let totals: BTreeMap<String, (i64, bool)> = stored
        .into_iter()
        .map(|(id, count, source, status)| {
            let new = source == "webhook" && groups.get(id.as_str()).is_some_and(|g| g.count == count);
            recorded |= new && status == EventStatus::Received;
            (id, (count, new))
        })
        .collect();
    Ok((outcomes(deliveries, &groups, &totals), recorded))
}

/// Each delivery's outcome, in order, from the stored counts after the upsert.
fn outcomes(
    deliveries: &[Delivery],
    groups: &BTreeMap<&str, Group<'_>>,
    totals: &BTreeMap<String, (i64, bool)>,
) -> Vec<Recorded> {
    let mut seen: BTreeMap<&str, i64> = BTreeMap::new();
    deliveries
        .iter()
        .map(|d| {
            let id = d.envelope.id.as_str();
            let in_batch = groups[id].count;
            let (total, new) = totals.get(id).copied().unwrap_or((in_batch, true));
            let index = seen.entry(id).or_insert(0);
            *index += 1;
            if new && *index == 1 {
                Recorded::First
            } else {
                Recorded::Duplicate { delivery_count: total - in_batch + *index }
            }
        })
        .collect()
}
