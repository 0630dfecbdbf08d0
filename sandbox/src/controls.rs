//! What the operators' area shows of the sandbox and lets them do: the recent webhook
//! deliveries with their attempts, the test clocks with their next renewal, and advancing a
//! clock by a day, a month or to its next renewal.

use billhook_core::on_db;
use serde_json::Value;

use crate::{
    Sandbox,
    api::{renewals, test_clocks},
    error::ApiError,
    periods,
    store::Page,
};

/// One event's delivery to Billhook's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySummary {
    pub event_id: String,
    pub event_type: String,
    pub attempts: i64,
    /// The endpoint's last answer; None: not reached.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// Unix ms.
    pub delivered_at: Option<i64>,
    /// Unix ms: when the sandbox stopped retrying (three days after the event).
    pub given_up_at: Option<i64>,
    pub next_attempt_at: i64,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    event_id: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<i64>,
    given_up_at: Option<i64>,
    next_attempt_at: i64,
    /// The event, as stored.
    body: String,
}

/// A test clock and what it will do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockSummary {
    pub id: String,
    pub name: Option<String>,
    /// Unix seconds.
    pub frozen_time: i64,
    pub subscriptions: usize,
    /// When the next of its subscriptions renews (or expires), Unix seconds.
    pub next_renewal: Option<i64>,
}

/// How far an operator moves a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    Day,
    Month,
    NextRenewal,
}

impl Sandbox {
    /// The newest `limit` deliveries.
    pub async fn recent_deliveries(&self, limit: i64) -> Result<Vec<DeliverySummary>, ApiError> {
        let rows: Vec<DeliveryRow> = on_db!(self.store.db(), pool => {
            sqlx::query_as(
                "SELECT d.event_id, d.attempts, d.last_status, d.last_error, d.delivered_at, d.given_up_at, d.next_attempt_at, o.body \
                 FROM sandbox_deliveries d JOIN sandbox_objects o ON o.id = d.event_id ORDER BY o.seq DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|row| DeliverySummary {
                event_type: serde_json::from_str::<Value>(&row.body)
                    .ok()
                    .and_then(|e| e["type"].as_str().map(str::to_owned))
                    .unwrap_or_default(),
                event_id: row.event_id,
                attempts: row.attempts,
                last_status: row.last_status,
                last_error: row.last_error,
                delivered_at: row.delivered_at,
                given_up_at: row.given_up_at,
                next_attempt_at: row.next_attempt_at,
            })
            .collect())
    }

    /// Every test clock (not deleted), newest first.
    pub async fn clocks(&self) -> Result<Vec<ClockSummary>, ApiError> {
        let all = Page { limit: 1000, ..Page::default() };
        let (clocks, _) = self.store.list("test_helpers.test_clock", &all, |c| c["status"] != "deleted").await?;
        let (subscriptions, _) = self
            .store
            .list("subscription", &Page { limit: 10_000, ..Page::default() }, |s| !s["test_clock"].is_null())
            .await?;
        Ok(clocks
            .into_iter()
            .map(|clock| {
                let mine: Vec<&Value> = subscriptions.iter().filter(|s| s["test_clock"] == clock["id"]).collect();
                ClockSummary {
                    id: clock["id"].as_str().unwrap_or_default().to_owned(),
                    name: clock["name"].as_str().map(str::to_owned),
                    frozen_time: clock["frozen_time"].as_i64().unwrap_or_default(),
                    subscriptions: mine.len(),
                    next_renewal: mine.iter().filter_map(|s| renewals::next_boundary(s)).min(),
                }
            })
            .collect())
    }

    /// Moves clock `id` forward as an operator asked; returns its new time (Unix seconds).
    pub async fn advance_clock(&self, id: &str, by: Advance) -> Result<i64, ApiError> {
        let clock = self
            .clocks()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ApiError::no_such("test clock", id, "id"))?;
        let to = match by {
            Advance::Day => clock.frozen_time + 86_400,
            Advance::Month => periods::advance(clock.frozen_time, "month", 1),
            Advance::NextRenewal => clock
                .next_renewal
                .filter(|at| *at > clock.frozen_time)
                .ok_or_else(|| ApiError::invalid("No subscription on this clock renews.".into()))?,
        };
        test_clocks::advance_to(self, id, to, &self.public_base).await?;
        Ok(to)
    }
}
