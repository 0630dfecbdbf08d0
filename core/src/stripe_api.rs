//! Billhook's client for Stripe's API: async-stripe with a configurable base URL (Stripe, or an
//! offline stand-in in tests). Events are kept as Stripe sent them, byte for byte, so the client
//! hands back each listed event's raw JSON rather than async-stripe's typed `Event`.

use std::{sync::Mutex, time::Duration};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use stripe_client_core::{
    CustomizedStripeRequest, IdempotencyKey, RequestBuilder, RequestStrategy, StripeClient, StripeMethod, StripeRequest,
};

/// Stripe's API, unless the configuration names another.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

#[derive(Debug, thiserror::Error)]
pub enum StripeApiError {
    #[error("Stripe cannot be reached: {0}")]
    Unreachable(String),
    /// `request_id` (`req_...`, from the error's `request_log_url`) finds the request in
    /// Stripe's dashboard log.
    #[error("Stripe answered {status}: {message} (request {})", request_id.as_deref().unwrap_or("unknown"))]
    Api { status: u16, message: String, request_id: Option<String> },
    #[error("Stripe's answer cannot be read: {0}")]
    BadResponse(String),
    #[error("the Stripe client is misconfigured: {0}")]
    Config(String),
}

impl StripeApiError {
    /// Worth another attempt: the network, a conflict on the idempotency key, rate limiting or
    /// Stripe's own trouble.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Api { status, .. } => matches!(status, 409 | 429 | 500..=599),
            Self::BadResponse(_) | Self::Config(_) => false,
        }
    }
}

impl From<stripe::StripeError> for StripeApiError {
    fn from(e: stripe::StripeError) -> Self {
        match e {
            stripe::StripeError::Stripe(errors, status) => {
                let request_id = errors
                    .request_log_url
                    .as_deref()
                    .and_then(|url| url.rsplit('/').next())
                    .map(|tail| tail.split('?').next().unwrap_or(tail).to_owned())
                    .filter(|id| id.starts_with("req_"));
                Self::Api {
                    status,
                    message: errors.message.clone().unwrap_or_else(|| format!("{:?}", errors.type_)),
                    request_id,
                }
            }
            stripe::StripeError::JSONDeserialize(m) => Self::BadResponse(m),
            stripe::StripeError::ClientError(m) => Self::Unreachable(m),
            stripe::StripeError::Timeout => Self::Unreachable("timed out".into()),
            stripe::StripeError::ConfigError(m) => Self::Config(m),
        }
    }
}

/// A page of events, newest first, each as Stripe's JSON.
#[derive(Debug, Deserialize)]
pub struct EventPage {
    pub data: Vec<Box<RawValue>>,
    pub has_more: bool,
}

/// A Stripe API client (cheap to clone).
#[derive(Clone)]
pub struct StripeApi {
    client: stripe::Client,
    api_base: String,
    /// Put each new customer on a test clock of its own (an offline sandbox: renewals are then
    /// run by moving the customer's clock).
    test_clocks: bool,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi").field("api_base", &self.api_base).finish_non_exhaustive()
    }
}

impl StripeApi {
    /// A client for `secret_key` (`sk_...` or a restricted `rk_...`) at `api_base`.
    pub fn new(secret_key: &str, api_base: &str, timeout: Duration) -> Result<Self, StripeApiError> {
        if secret_key.trim().is_empty() {
            return Err(StripeApiError::Config("the secret key is empty".into()));
        }
        let api_base = api_base.trim_end_matches('/').to_owned();
        // async-stripe appends `v1/...` to the base as written: a base with a path (the sandbox's
        // `/sandbox/stripe`) needs its trailing slash.
        let client = stripe::ClientBuilder::new(secret_key)
            .url(format!("{api_base}/"))
            .request_strategy(stripe::RequestStrategy::ExponentialBackoff(3))
            .timeout(timeout)
            .build()?;
        Ok(Self { client, api_base, test_clocks: false })
    }

    /// This client's new customers each live on a test clock of their own.
    #[must_use]
    pub fn with_test_clocks(mut self) -> Self {
        self.test_clocks = true;
        self
    }

    /// Whether new customers get a test clock.
    pub fn test_clocks(&self) -> bool {
        self.test_clocks
    }

    /// async-stripe's client, for its typed requests (`CreateProduct::new(..).send(api.client())`).
    /// It retries network errors, 409, 429 and 5xx with backoff, under one idempotency key.
    pub fn client(&self) -> &stripe::Client {
        &self.client
    }

    /// Sends a POST under idempotency key `key`, so that it takes effect once however often it is
    /// sent, from however many nodes (Stripe keeps keys for 24 hours); network errors, 409, 429
    /// and 5xx are tried again, up to three attempts with growing delays.
    pub async fn send_once<R>(&self, request: &R, key: &str) -> Result<R::Output, StripeApiError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let key =
            IdempotencyKey::new(key).map_err(|e| StripeApiError::Config(format!("idempotency key {key:?}: {e}")))?;
        let mut delay = Duration::from_millis(250);
        for attempt in 1.. {
            let strategy = RequestStrategy::Idempotent(key.clone());
            match request.customize().request_strategy(strategy).send(&self.client).await.map_err(StripeApiError::from)
            {
                Err(e) if attempt < 3 && e.is_transient() => {
                    tracing::debug!(error = %e, attempt, "Stripe request failed; trying again");
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
                answer => return answer,
            }
        }
        unreachable!("the loop returns by the third attempt")
    }

    /// Events created at or after `since` (unix seconds), newest first, `limit` (1-100) per page,
    /// continuing after event `starting_after`.
    pub async fn list_events(
        &self,
        since: i64,
        starting_after: Option<&str>,
        limit: u8,
    ) -> Result<EventPage, StripeApiError> {
        let mut request = stripe_core::event::ListEvent::new()
            .created(stripe_types::RangeQueryTs::gte(since))
            .limit(i64::from(limit));
        if let Some(after) = starting_after {
            request = request.starting_after(after);
        }
        let body = self.raw(request.build()).await?;
        serde_json::from_slice(&body).map_err(|e| StripeApiError::BadResponse(format!("an event list: {e}")))
    }

    /// The object at `/v1/{collection}/{id}` as Stripe's JSON (`collection`: `customers`,
    /// `subscriptions`, ...), read fresh: what Stripe says now.
    pub async fn retrieve(&self, collection: &str, id: &str) -> Result<serde_json::Value, StripeApiError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StripeApiError::Config(format!("{id:?} is not a Stripe object id")));
        }
        let body = self.raw(RequestBuilder::new(StripeMethod::Get, format!("/{collection}/{id}"))).await?;
        serde_json::from_slice(&body).map_err(|e| StripeApiError::BadResponse(format!("a {collection} object: {e}")))
    }

    /// Sends `request` and returns the response body as Stripe sent it.
    async fn raw(&self, request: RequestBuilder) -> Result<Bytes, StripeApiError> {
        let tap = Tap { inner: &self.client, body: Mutex::new(None) };
        // async-stripe insists on parsing the answer: into an untyped value, which cannot fail on
        // a field it does not know.
        request.customize::<miniserde::json::Value>().send(&tap).await?;
        Ok(tap.body.into_inner().unwrap_or_else(|p| p.into_inner()).unwrap_or_default())
    }
}

/// A client that keeps the body of the one response it fetches.
struct Tap<'a> {
    inner: &'a stripe::Client,
    body: Mutex<Option<Bytes>>,
}

impl StripeClient for Tap<'_> {
    type Err = stripe::StripeError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, Self::Err> {
        let body = self.inner.execute(request).await?;
        *self.body.lock().unwrap_or_else(|p| p.into_inner()) = Some(body.clone());
        Ok(body)
    }
}
