//! Stripe reconciliation: lists recent events from Stripe's Events API and stores (and queues)
//! any the webhook endpoint never received - it was down, a secret was wrong, a delivery was
//! lost. Stripe keeps events for 30 days. Each run covers from the last successful run (less an
//! overlap) or the look-back, whichever is later; finding an event again is harmless (it is
//! stored once), so the windows may overlap freely.

use std::time::Duration;

use crate::{
    clock,
    db::Db,
    events::queue_for,
    jobs::{self, ProcessEvent},
    on_db,
    stripe_api::{StripeApi, StripeApiError},
    webhooks::{EnvelopeError, EventEnvelope},
};

/// How far back reconciliation looks.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// The oldest events listed, when no run succeeded more recently (at most Stripe's 30 days).
    pub lookback: Duration,
    /// Re-list this much before the last successful run's start (clock skew, slow writes).
    pub overlap: Duration,
    /// Events per API page (1-100).
    pub page_size: u8,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self { lookback: Duration::from_secs(3 * 24 * 3600), overlap: Duration::from_secs(3600), page_size: 100 }
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Unix seconds: events created at or after this were listed.
    pub since: i64,
    pub listed: usize,
    /// Events stored by this run (the endpoint had not received them).
    pub filled: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Stripe(#[from] StripeApiError),
    #[error("Stripe listed something that is not an event: {0}")]
    NotAnEvent(#[from] EnvelopeError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queueing the filled events: {0}")]
    Enqueue(#[from] crate::jobs::EnqueueError),
}

/// One reconciliation run, recorded in `stripe_reconciliations` whether it succeeds or not.
pub async fn reconcile(db: &Db, stripe: &StripeApi, options: &ReconcileOptions) -> Result<Reconciled, ReconcileError> {
    let started = clock::now_ms();
    let since = window_start(db, started, options).await?;
    let mut progress = Reconciled { since, listed: 0, filled: 0 };
    let result = fill(db, stripe, options.page_size.clamp(1, 100), &mut progress).await;
    let error = result.as_ref().err().map(ToString::to_string);
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO stripe_reconciliations (started_at, finished_at, since, listed, filled, error) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(started)
        .bind(clock::now_ms())
        .bind(since)
        .bind(i64::try_from(progress.listed).unwrap_or(i64::MAX))
        .bind(i64::try_from(progress.filled).unwrap_or(i64::MAX))
        .bind(&error)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    match result {
        Ok(()) => {
            if progress.filled > 0 {
                tracing::warn!(
                    filled = progress.filled,
                    listed = progress.listed,
                    "stored Stripe events the endpoint missed"
                );
            }
            Ok(progress)
        }
        Err(e) => Err(e),
    }
}

/// Unix seconds: the later of (now - look-back) and (last successful start - overlap).
async fn window_start(db: &Db, now_ms: i64, options: &ReconcileOptions) -> sqlx::Result<i64> {
    let last_success: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT MAX(started_at) FROM stripe_reconciliations WHERE error IS NULL")
            .fetch_one(pool)
            .await
    })?;
    let lookback = i64::try_from(options.lookback.as_millis()).unwrap_or(i64::MAX / 2);
    let overlap = i64::try_from(options.overlap.as_millis()).unwrap_or(i64::MAX / 2);
    let floor = now_ms - lookback;
    Ok(last_success.map_or(floor, |last| (last - overlap).max(floor)) / 1000)
}

/// Pages through the events (newest first) and stores the missing ones page by page, so an
/// error part-way keeps what was already filled.
async fn fill(db: &Db, stripe: &StripeApi, page_size: u8, progress: &mut Reconciled) -> Result<(), ReconcileError> {
    let mut after: Option<String> = None;
    loop {
        let page = stripe.list_events(progress.since, after.as_deref(), page_size).await?;
        let events = page
            .data
            .iter()
            .map(|raw| Ok((EventEnvelope::parse(raw.get())?, raw.get())))
            .collect::<Result<Vec<_>, EnvelopeError>>()?;
        progress.listed += events.len();
        progress.filled += store_missing(db, &events).await?;
        match events.last() {
            Some((last, _)) if page.has_more => after = Some(last.id.clone()),
            _ => return Ok(()),
        }
    }
}

/// Stores the events not yet in `webhook_events` and queues those with a handler, in one
/// transaction; returns how many were new.
async fn store_missing(db: &Db, events: &[(EventEnvelope, &str)]) -> Result<usize, ReconcileError> {
    let now = clock::now_ms();
    let stored = on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let (mut jobs, mut filled) = (Vec::new(), 0);
        for (event, payload) in events {
            let queue = queue_for(&event.event_type);
            let inserted = sqlx::query(
                "INSERT INTO webhook_events (id, event_type, api_version, created, livemode, object_id, payload, headers, \
                 received_at, last_received_at, delivery_count, status, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8, $8, 0, $9, 'reconciliation') ON CONFLICT (id) DO NOTHING",
            )
            .bind(&event.id)
            .bind(&event.event_type)
            .bind(&event.api_version)
            .bind(event.created)
            .bind(event.livemode)
            .bind(&event.object_id)
            .bind(*payload)
            .bind(now)
            .bind(if queue.is_some() { "queued" } else { "ignored" })
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                continue; // received (or reconciled) before
            }
            filled += 1;
            tracing::info!(event = %event.id, r#type = %event.event_type, "stored an event the endpoint never received");
            jobs.extend(ProcessEvent::for_event(&event.id, &event.event_type));
        }
        jobs::enqueue(&mut *tx, &jobs).await?;
        tx.commit().await?;
        Ok::<_, ReconcileError>(filled)
    })?;
    Ok(stored)
}
