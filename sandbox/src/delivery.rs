//! Delivering the sandbox's events to Billhook's own `POST /webhooks/stripe`, signed with the
//! sandbox's endpoint secret, as Stripe delivers: every event at least once, retried with growing
//! delays while the endpoint answers anything but 2xx. Order is not guaranteed (Stripe does not
//! guarantee it either); with `shuffle_and_duplicate` the sandbox makes that visible on purpose,
//! shuffling each batch and sending some events twice.
//!
//! Every web node runs the loop; a node leases a due delivery by moving its next attempt ahead
//! before it sends, so two nodes do not send the same attempt.

use std::time::Duration;

use billhook_core::{clock, on_db, webhooks::sign};
use rand::{Rng, seq::SliceRandom};
use tokio_util::sync::CancellationToken;

use crate::{Sandbox, error::ApiError};

/// How a node delivers.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Where to: Billhook's webhook endpoint.
    pub endpoint: String,
    /// Shuffle each batch and deliver about a third of the events twice.
    pub shuffle_and_duplicate: bool,
}

/// How long a lease holds a delivery for the node sending it.
const LEASE_MS: i64 = 30_000;
/// First retry after this; doubles per attempt up to [`RETRY_CAP_MS`].
const RETRY_BASE_MS: i64 = 1_000;
const RETRY_CAP_MS: i64 = 3_600_000;
const BATCH: i64 = 50;
const POLL: Duration = Duration::from_millis(200);

/// Queues `event_id` for delivery (called when the event is recorded).
pub(crate) async fn queue(sandbox: &Sandbox, event_id: &str) -> Result<(), ApiError> {
    on_db!(sandbox.store.db(), pool => {
        sqlx::query("INSERT INTO sandbox_deliveries (event_id, next_attempt_at) VALUES ($1, $2)")
            .bind(event_id)
            .bind(clock::now_ms())
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    sandbox.deliveries_due.notify_waiters();
    Ok(())
}

impl Sandbox {
    /// Delivers due events until `shutdown`.
    pub async fn deliver_until(self, options: DeliveryOptions, shutdown: CancellationToken) {
        let http = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
            Ok(http) => http,
            Err(e) => {
                tracing::error!(error = %e, "the sandbox cannot build its HTTP client; no webhook deliveries");
                return;
            }
        };
        loop {
            match self.deliver_due(&http, &options).await {
                Ok(sent) if sent > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "sandbox webhook deliveries failed; retrying"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.deliveries_due.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Sends one batch of due deliveries; returns how many were attempted.
    async fn deliver_due(&self, http: &reqwest::Client, options: &DeliveryOptions) -> Result<usize, ApiError> {
        let now = clock::now_ms();
        // A read first: an idle sandbox must not take SQLite's write lock five times a second.
        let any_due: Option<String> = on_db!(self.store.db(), pool => {
            sqlx::query_scalar("SELECT event_id FROM sandbox_deliveries WHERE delivered_at IS NULL AND next_attempt_at <= $1 LIMIT 1")
                .bind(now)
                .fetch_optional(pool)
                .await
        })?;
        if any_due.is_none() {
            return Ok(0);
        }
        let leased: Vec<(String, i64)> = on_db!(self.store.db(), pool => {
            sqlx::query_as(
                "UPDATE sandbox_deliveries SET next_attempt_at = $2 WHERE event_id IN ( \
                     SELECT event_id FROM sandbox_deliveries WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at LIMIT $3) \
                 RETURNING event_id, attempts",
            )
            .bind(now)
            .bind(now + LEASE_MS)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })?;
        let attempted = leased.len();
        let mut due = Vec::with_capacity(leased.len());
        for (event_id, attempts) in leased {
            if let Some(event) = self.store.find(&event_id).await? {
                due.push((event_id, attempts, event.to_string()));
            }
        }
        if options.shuffle_and_duplicate {
            let mut rng = rand::thread_rng();
            let again: Vec<_> = due.iter().filter(|_| rng.gen_bool(0.3)).cloned().collect();
            due.extend(again);
            due.shuffle(&mut rng);
        }
        for (event_id, attempts, body) in due {
            let outcome = self.send(http, &options.endpoint, &body).await;
            self.record_attempt(&event_id, attempts, outcome).await?;
        }
        Ok(attempted)
    }

    /// One signed POST; the endpoint's status, or why there is none.
    async fn send(&self, http: &reqwest::Client, endpoint: &str, body: &str) -> Result<u16, String> {
        let header = sign(&self.keys.webhook_secret, clock::now_ms() / 1000, body.as_bytes());
        let response = http
            .post(endpoint)
            .header("Stripe-Signature", header)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks) Billhook-Sandbox")
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    async fn record_attempt(
        &self,
        event_id: &str,
        attempts: i64,
        outcome: Result<u16, String>,
    ) -> Result<(), ApiError> {
        let now = clock::now_ms();
        let (status, error) = match &outcome {
            Ok(status) => (Some(i64::from(*status)), None),
            Err(error) => (None, Some(error.clone())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        // Delivered: done. Otherwise the next attempt after 1 s, 2 s, 4 s, ... up to an hour.
        let next_attempt_at = if delivered {
            now
        } else {
            tracing::debug!(event_id, ?outcome, "sandbox webhook delivery failed; will retry");
            now + RETRY_BASE_MS.saturating_mul(1 << attempts.clamp(0, 20)).min(RETRY_CAP_MS)
        };
        on_db!(self.store.db(), pool => {
            sqlx::query(
                "UPDATE sandbox_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3, \
                     delivered_at = $4, next_attempt_at = $5 WHERE event_id = $1 AND delivered_at IS NULL",
            )
            .bind(event_id)
            .bind(status)
            .bind(error)
            .bind(delivered.then_some(now))
            .bind(next_attempt_at)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
