//! The webhook inbox: stores each verified delivery before it is acknowledged, deduplicated by
//! event id, with as few commits as possible.
//!
//! Group commit: request handlers hand their delivery to a writer task and wait for its answer;
//! the writer takes everything that has arrived (up to `max_batch`), writes it with ONE
//! multi-row upsert in ONE transaction, commits, then answers each waiting handler. Under load
//! many deliveries share a commit; alone, a delivery is committed at once (no timer). Nothing is
//! acknowledged before its commit, and a failed commit fails every delivery in it (503, Stripe
//! retries). A stored event is only recorded (`received`); the workers' dispatchers queue it
//! (`jobs::dispatch`), so acknowledging costs one row per event - except in a process that runs
//! the workers too, which queues it in the storing transaction ([`WebhookInbox::queue_in_place`]).
//!
//! When the database is down, refusals must be quick too: a write gives up after
//! [`WRITE_TIMEOUT`] (not the pool's longer acquire timeout), and after a failure the writer
//! refuses at once for [`PROBE_AFTER`] before it tries the database again. A write cut off by the
//! timeout may still have committed; its deliveries were refused, so Stripe retries them and finds
//! the event stored once (a duplicate).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::{Mutex, mpsc, oneshot};

use self::batch::write_batch;
use super::EventEnvelope;
use crate::{
    activity::{Activity, Tally},
    db::Db,
    jobs,
};

mod batch;
mod upsert;

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
    /// Set when this process also runs the workers: see [`WebhookInbox::queue_in_place`].
    in_place: Arc<AtomicBool>,
    /// The events received and the deliveries repeated (the dashboard's charts).
    tally: Tally,
}

/// Tuning for the writers.
#[derive(Debug, Clone, Copy)]
pub struct InboxOptions {
    /// Writer tasks, each with one batch in flight at a time. SQLite has one writer at a time
    /// anyway. PostgreSQL on this machine shares its cores with Billhook: one writer, whose
    /// deliveries arriving during a commit wait for the next, larger batch, ingests fastest
    /// (more make smaller batches, each costing a statement and a commit). Across a network the
    /// round trips dominate, and two writers overlap them (docs/benchmarks.md, run 13).
    pub writers: usize,
    /// Most deliveries in one commit.
    pub max_batch: usize,
    /// Deliveries waiting for a writer before handlers wait for room.
    pub queue: usize,
}

impl InboxOptions {
    pub fn for_db(db: &Db) -> Self {
        let writers = if db.on_this_machine() { 1 } else { 2 };
        Self { writers, max_batch: 256, queue: 4096 }
    }
}

impl WebhookInbox {
    /// Starts the writer tasks on the current runtime.
    pub fn start(db: Db, options: InboxOptions) -> Self {
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let tally = Tally::default();
        let announcer = jobs::dispatch::Announcer::new(&db);
        let in_place = Arc::new(AtomicBool::new(false));
        for _ in 0..options.writers.max(1) {
            let handoff = Handoff { announcer: announcer.clone(), in_place: in_place.clone() };
            tokio::spawn(writer(db.clone(), rx.clone(), options.max_batch.max(1), tally.clone(), handoff));
        }
        Self { tx, tally, in_place }
    }

    /// From now on new events are queued in the transaction that stores them, not left to the
    /// dispatchers: for a process that runs the workers too (`serve --role all`, SQLite's one
    /// node), where a second transaction per batch would only add work to the same database.
    pub fn queue_in_place(&self) {
        self.in_place.store(true, Ordering::Relaxed);
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

/// How a writer hands new events on to their queues.
struct Handoff {
    /// Tells the dispatchers when a batch recorded new events.
    announcer: jobs::dispatch::Announcer,
    /// Queues them itself instead ([`WebhookInbox::queue_in_place`]).
    in_place: Arc<AtomicBool>,
}

/// A writer task: stores batches until every sender is gone.
async fn writer(
    db: Db,
    rx: Arc<Mutex<mpsc::Receiver<(Delivery, Reply)>>>,
    max_batch: usize,
    tally: Tally,
    handoff: Handoff,
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
        let error = match tokio::time::timeout(
            WRITE_TIMEOUT,
            write_batch(&db, &deliveries, handoff.in_place.load(Ordering::Relaxed)),
        )
        .await
        {
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
                    handoff.announcer.announce();
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
