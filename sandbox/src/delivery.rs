//! Delivering the sandbox's events to Billhook's own `POST /webhooks/stripe`, signed with the
//! sandbox's endpoint secret, as Stripe delivers: every event at least once, retried with growing
//! delays while the endpoint answers anything but 2xx, for up to three days (then it gives up, as
//! Stripe does in live mode). Order is not guaranteed (Stripe does not
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
/// Stripe stops retrying an event three days after it was first due.
const GIVE_UP_AFTER_MS: i64 = 3 * 24 * 3_600_000;
const BATCH: i64 = 50;
const POLL: Duration = Duration::from_millis(200);

/// Queues `event_id` for delivery (called when the event is recorded).
pub(crate) async fn queue(sandbox: &Sandbox, event_id: &str) -> Result<(), ApiError> {
    on_db!(sandbox.store.db(), pool => {
        let now = clock::now_ms();
        sqlx::query("INSERT INTO sandbox_deliveries (event_id, next_attempt_at, queued_at) VALUES ($1, $2, $2)")
            .bind(event_id)
            .bind(now)
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
            sqlx::query_scalar("SELECT event_id FROM sandbox_deliveries WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1 LIMIT 1")
                .bind(now)
                .fetch_optional(pool)
                .await
        })?;
        if any_due.is_none() {
            return Ok(0);
        }
        let leased: Vec<(String, i64, i64)> = on_db!(self.store.db(), pool => {
            sqlx::query_as(
                "UPDATE sandbox_deliveries SET next_attempt_at = $2 WHERE event_id IN ( \
                     SELECT event_id FROM sandbox_deliveries WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at LIMIT $3) \
                 RETURNING event_id, attempts, queued_at",
            )
            .bind(now)
            .bind(now + LEASE_MS)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })?;
        let attempted = leased.len();
        let mut due = Vec::with_capacity(leased.len());
        for (event_id, attempts, queued_at) in leased {
            if let Some(event) = self.store.find(&event_id).await? {
                due.push((event_id, Attempt { number: attempts, queued_at }, event.to_string()));
            }
        }
        if options.shuffle_and_duplicate {
            let mut rng = rand::thread_rng();
            let again: Vec<_> = due.iter().filter(|_| rng.gen_bool(0.3)).cloned().collect();
            due.extend(again);
            due.shuffle(&mut rng);
        }
        for (event_id, attempt, body) in due {
            let outcome = self.send(http, &options.endpoint, &body).await;
            self.record_attempt(&event_id, attempt, outcome).await?;
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
        attempt: Attempt,
        outcome: Result<u16, String>,
    ) -> Result<(), ApiError> {
        let now = clock::now_ms();
        let (status, error) = match &outcome {
            Ok(status) => (Some(i64::from(*status)), None),
            Err(error) => (None, Some(error.clone())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let (delivered_at, given_up_at, next_attempt_at) = match attempt.after(delivered, now) {
            Next::Done => (Some(now), None, now),
            Next::RetryAt(at) => {
                tracing::debug!(event_id, ?outcome, "sandbox webhook delivery failed; will retry");
                (None, None, at)
            }
            Next::GiveUp => {
                tracing::warn!(
                    event_id,
                    ?outcome,
                    "sandbox webhook undelivered for three days; given up, as Stripe does"
                );
                (None, Some(now), now)
            }
        };
        on_db!(self.store.db(), pool => {
            sqlx::query(
                "UPDATE sandbox_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3, \
                     delivered_at = $4, given_up_at = $5, next_attempt_at = $6 WHERE event_id = $1 AND delivered_at IS NULL",
            )
            .bind(event_id)
            .bind(status)
            .bind(error)
            .bind(delivered_at)
            .bind(given_up_at)
            .bind(next_attempt_at)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}

/// A delivery attempt: how many came before it, and since when the event has waited.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    number: i64,
    /// Unix ms.
    queued_at: i64,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Done,
    /// Unix ms.
    RetryAt(i64),
    GiveUp,
}

impl Attempt {
    /// Delivered: done. Otherwise the next attempt after 1 s, 2 s, 4 s, ... up to an hour, until
    /// that attempt would fall three days after the event was queued.
    fn after(self, delivered: bool, now: i64) -> Next {
        if delivered {
            return Next::Done;
        }
        let at = now + RETRY_BASE_MS.saturating_mul(1 << self.number.clamp(0, 20)).min(RETRY_CAP_MS);
        if at > self.queued_at.saturating_add(GIVE_UP_AFTER_MS) { Next::GiveUp } else { Next::RetryAt(at) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn retries_back_off_to_an_hour_and_stop_after_three_days() {
        let queued_at = 1_000_000;
        let first = Attempt { number: 0, queued_at };
        assert_eq!(first.after(true, queued_at), Next::Done);
        assert_eq!(first.after(false, queued_at), Next::RetryAt(queued_at + 1_000));
        assert_eq!(Attempt { number: 3, queued_at }.after(false, queued_at), Next::RetryAt(queued_at + 8_000));
        assert_eq!(Attempt { number: 40, queued_at }.after(false, queued_at), Next::RetryAt(queued_at + HOUR));

        // Walk the schedule with an endpoint that never answers 2xx.
        let (mut now, mut attempts) = (queued_at, 0);
        loop {
            match (Attempt { number: attempts, queued_at }).after(false, now) {
                Next::RetryAt(at) => (now, attempts) = (at, attempts + 1),
                Next::GiveUp => break,
                Next::Done => unreachable!(),
            }
        }
        assert!(now <= queued_at + 72 * HOUR && now > queued_at + 71 * HOUR, "last attempt in the 72nd hour");
        assert!((80..90).contains(&attempts), "about 12 quick retries then hourly ones: {attempts}");
    }
}
