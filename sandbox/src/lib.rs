//! Billhook's offline Stripe sandbox: a stateful stand-in for the part of Stripe's API that
//! Billhook calls, in Stripe's current shapes, so that production code cannot tell it from
//! Stripe test mode. The `billhook` server mounts it at `/sandbox/stripe` when no Stripe key is
//! configured; its state lives in Billhook's database (every node sees the same sandbox).
//!
//! Covered so far: the key pair and Stripe's key check; Stripe's request encoding (brackets,
//! `expand[]`), error answers, list pagination (`limit`, `starting_after`, `ending_before`) and
//! `Idempotency-Key`; customers, products, prices (with `lookup_key`); cards (from a number or
//! one of Stripe's test PaymentMethod ids) that behave as Stripe's test cards, payment intents
//! and setup intents with 3-D Secure answered on the sandbox's challenge page, and a publishable
//! key that reaches an intent with its client secret (as Stripe.js does); subscriptions with
//! several items, paid through their first invoice's `confirmation_secret`
//! (`default_incomplete`) or at once with a saved card (`allow_incomplete`), keeping the paying
//! card, changed (a new price or quantity on an item, items added or deleted, prorated by the
//! day: invoiced now, carried to the next renewal, or not at all; previewed with
//! `create_preview`), cancelled at period end or now; test clocks whose advance renews subscriptions
//! (invoices charged off-session with the saved card; `past_due` with
//! `invoice.payment_action_required` or `invoice.payment_failed` when it cannot be), ends the
//! ones set to cancel and expires those left `incomplete` for 23 hours; and an event for every
//! change, listed by
//! `GET /v1/events` and delivered, signed, to Billhook's own webhook endpoint (retried until it
//! answers 2xx; optionally shuffled and duplicated); and a stand-in for Stripe.js (`js/stripe.js`,
//! served at `/sandbox/stripe/js/v3`).
//!
//! Each object starts from Stripe's own sample of it (`templates/`, from Stripe's published
//! fixtures), so no field Stripe sends is missing.

mod api;
mod cards;
mod controls;
mod delivery;
mod error;
mod form;
mod keys;
mod params;
mod periods;
mod status;
mod store;

use std::sync::Arc;

use billhook_core::{Db, clock};

pub use api::API_VERSION;
pub use controls::{Advance, ClockSummary, DeliverySummary};
pub use delivery::DeliveryOptions;
pub use error::ApiError;
pub use keys::Keys;

/// Why the sandbox cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox configuration: {0}")]
    Config(String),
    #[error("sandbox database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The running sandbox (cheap to clone).
#[derive(Debug, Clone)]
pub struct Sandbox {
    store: store::Store,
    keys: Arc<Keys>,
    /// Wakes this node's delivery loop when an event is recorded.
    deliveries_due: Arc<tokio::sync::Notify>,
    /// Where browsers reach the sandbox (`http://HOST/sandbox/stripe`), for the links of work
    /// not started by a request (an operator advancing a clock).
    public_base: String,
    /// An outage an operator switched on: calls with the secret key (the server's) get Stripe's
    /// 503; Stripe.js (the publishable key) and the deliveries carry on. Per node, in memory.
    outage: Arc<std::sync::atomic::AtomicBool>,
}

impl Sandbox {
    /// Opens the sandbox on `db` with the configured key pair, or the one kept in the database.
    /// `configured`: the API key pair from the configuration (secret, publishable), if any.
    pub async fn open(db: Db, configured: Option<(String, String)>) -> Result<Self, SandboxError> {
        let keys = Keys::load(&db, configured).await?;
        Ok(Self {
            store: store::Store::new(db),
            keys: Arc::new(keys),
            deliveries_due: Arc::default(),
            public_base: "http://127.0.0.1/sandbox/stripe".into(),
            outage: Arc::default(),
        })
    }

    /// Simulates (or ends) an outage of Stripe's API for the server: what jobs that call Stripe
    /// meet on a bad day, and how an operator then retries them.
    pub fn set_outage(&self, on: bool) {
        self.outage.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn outage(&self) -> bool {
        self.outage.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Where browsers reach the sandbox (`http://HOST/sandbox/stripe`).
    #[must_use]
    pub fn with_public_base(mut self, base: String) -> Self {
        self.public_base = base;
        self
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The HTTP routes, to be nested under the mount point (`/sandbox/stripe`).
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// The sandbox's time, in Unix seconds: the wall clock.
    fn now(&self) -> i64 {
        clock::now_ms() / 1000
    }

    /// `customer`'s time: its test clock's frozen time when it has one, else the wall clock.
    async fn now_for(&self, customer: &serde_json::Value) -> Result<i64, ApiError> {
        match customer["test_clock"].as_str() {
            Some(clock) => Ok(self.store.get("test_helpers.test_clock", clock, "test_clock").await?["frozen_time"]
                .as_i64()
                .unwrap_or_else(|| self.now())),
            None => Ok(self.now()),
        }
    }
}
