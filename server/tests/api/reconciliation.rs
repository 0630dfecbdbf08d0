//! Stripe reconciliation against an offline stand-in for Stripe's Events API (`GET /v1/events`,
//! paginated newest first as Stripe does), serving events built from Stripe's sample objects.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use billhook_core::{
    clock,
    events::reconcile::{ReconcileError, ReconcileOptions, reconcile},
    on_db,
    stripe_api::{StripeApi, StripeApiError},
};
use serde_json::{Value, json};

use crate::{
    helpers::TestApp,
    on_both_databases,
    stripe_events::{customer_event, event, sample},
    webhooks::deliver_signed,
};

on_both_databases!(
    reconciliation_fills_the_gaps_and_each_event_is_processed_once,
    a_refused_run_is_recorded_and_the_next_one_covers_its_window,
);

const SECRET_KEY: &str = "sk_test_billhook_reconciliation";

/// The stand-in's state: its events (any order) and the query strings it was asked.
#[derive(Clone, Default)]
struct FakeStripe {
    events: Arc<Mutex<Vec<String>>>,
    queries: Arc<Mutex<Vec<String>>>,
}

fn stripe_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "type": kind, "message": message } }))).into_response()
}

async fn list_events(State(stripe): State<FakeStripe>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    stripe.queries.lock().unwrap().push(query.clone());
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SECRET_KEY}")) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided");
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let since: i64 = param("created[gte]").map_or(0, |v| v.parse().unwrap());
    let limit: usize = param("limit").map_or(10, |v| v.parse().unwrap());
    let mut events: Vec<(Value, String)> = stripe
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|raw| (serde_json::from_str::<Value>(raw).unwrap(), raw.clone()))
        .filter(|(e, _)| e["created"].as_i64().unwrap() >= since)
        .collect();
    // Newest first; ties by id, descending (a stable order for `starting_after`).
    events.sort_by(|(a, _), (b, _)| {
        (b["created"].as_i64(), b["id"].as_str()).cmp(&(a["created"].as_i64(), a["id"].as_str()))
    });
    if let Some(after) = param("starting_after") {
        let position = events.iter().position(|(e, _)| e["id"] == after.as_str()).expect("a listed id") + 1;
        events.drain(..position);
    }
    let has_more = events.len() > limit;
    let data: Vec<&str> = events.iter().take(limit).map(|(_, raw)| raw.as_str()).collect();
    // Stripe's own list shape, the events inside byte for byte.
    let body = format!(r#"{{"object":"list","url":"/v1/events","has_more":{has_more},"data":[{}]}}"#, data.join(","));
    ([("content-type", "application/json")], body).into_response()
}

impl FakeStripe {
    async fn start(events: Vec<String>) -> (Self, String) {
        let stripe = Self { events: Arc::new(Mutex::new(events)), ..Self::default() };
        let router = Router::new().route("/v1/events", get(list_events)).with_state(stripe.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (stripe, base)
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

fn options(page_size: u8) -> ReconcileOptions {
    ReconcileOptions { page_size, ..ReconcileOptions::default() }
}

/// (source, delivery_count, status, processed_count, payload) of a stored event.
async fn stored(app: &TestApp, id: &str) -> Option<(String, i64, String, i64, String)> {
    on_db!(&app.state.db, pool => {
        sqlx::query_as(
            "SELECT source, delivery_count, status, processed_count, payload FROM webhook_events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap()
    })
}

async fn reconciliation_fills_the_gaps_and_each_event_is_processed_once(app: TestApp) {
    let now = clock::now_ms() / 1000;
    // Seven customer events within the last hour (inside the second run's one-hour overlap too),
    // and one event type Billhook has no handler for.
    let mut events: Vec<String> = (0..7)
        .map(|i| {
            customer_event(
                &format!("evt_rec_{i}"),
                &format!("cus_rec_{}", i % 3),
                now - 3000 + i * 60,
                &format!("v{i}@example.com"),
            )
        })
        .collect();
    events.push(event("evt_rec_price", "price.created", now - 100, sample("price")));
    // One event older than the look-back window: not listed.
    events.push(customer_event("evt_rec_ancient", "cus_rec_ancient", now - 5 * 24 * 3600, "old@example.com"));
    let (stripe, base) = FakeStripe::start(events.clone()).await;
    let api = StripeApi::new(SECRET_KEY, &base, Duration::from_secs(10)).unwrap();

    // The endpoint received three of them; the rest were lost.
    for body in [&events[0], &events[3], &events[6]] {
        deliver_signed(&app, body).await;
    }
    app.start_workers();

    let run = reconcile(&app.state.db, &api, &options(3)).await.unwrap();
    assert_eq!((run.listed, run.filled), (8, 5), "{run:?}");
    assert!(run.since <= now - 3 * 24 * 3600 + 5 && run.since > now - 4 * 24 * 3600, "{run:?}");
    let queries = stripe.queries();
    assert_eq!(queries.len(), 3, "8 events, 3 per page: {queries:?}");
    assert!(
        queries.iter().all(|q| q.contains(&format!("created%5Bgte%5D={}", run.since))
            || q.contains(&format!("created[gte]={}", run.since))),
        "{queries:?}"
    );
    assert!(queries[1].contains("starting_after=evt_rec_"), "{queries:?}");

    for (i, body) in events.iter().take(7).enumerate() {
        let id = format!("evt_rec_{i}");
        let (source, deliveries, _, _, payload) = stored(&app, &id).await.expect("stored");
        let expected = if [0, 3, 6].contains(&i) { ("webhook", 1) } else { ("reconciliation", 0) };
        assert_eq!((source.as_str(), deliveries), expected, "{id}");
        assert_eq!(&payload, body, "{id} is kept byte for byte");
    }
    assert_eq!(stored(&app, "evt_rec_price").await.unwrap().2, "ignored");
    assert!(stored(&app, "evt_rec_ancient").await.is_none());

    // Every event is processed once, and the mirror holds the newest state of each customer.
    for i in 0..7 {
        let id = format!("evt_rec_{i}");
        app.wait_for(&format!("{id} processed"), Duration::from_secs(30), || async {
            stored(&app, &id).await.filter(|s| s.2 == "processed").map(|_| ())
        })
        .await;
    }
    let mirrored: Vec<(String, Option<String>)> = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT id, email FROM stripe_customers ORDER BY id").fetch_all(pool).await.unwrap()
    });
    let expected = [("cus_rec_0", "v6@example.com"), ("cus_rec_1", "v4@example.com"), ("cus_rec_2", "v5@example.com")];
    assert_eq!(mirrored, expected.map(|(id, email)| (id.to_owned(), Some(email.to_owned()))));

    // A second run finds nothing new; Stripe's late delivery of a reconciled event is a duplicate.
    let again = reconcile(&app.state.db, &api, &options(100)).await.unwrap();
    assert_eq!((again.listed, again.filled), (8, 0));
    assert!(again.since > run.since, "the window starts from the last successful run: {again:?}");
    let answer = deliver_signed(&app, &events[1]).await;
    assert_eq!(answer, json!({ "received": "evt_rec_1", "duplicate": true, "delivery_count": 1 }));
    let (_, deliveries, status, processed, _) = stored(&app, "evt_rec_1").await.unwrap();
    assert_eq!((deliveries, status.as_str(), processed), (1, "processed", 1));
    let runs: Vec<(i64, i64, Option<String>)> = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT listed, filled, error FROM stripe_reconciliations ORDER BY id").fetch_all(pool).await.unwrap()
    });
    assert_eq!(runs, [(8, 5, None), (8, 0, None)]);
}

async fn a_refused_run_is_recorded_and_the_next_one_covers_its_window(app: TestApp) {
    let now = clock::now_ms() / 1000;
    let events = vec![customer_event("evt_gap_1", "cus_gap", now - 7200, "gap@example.com")];
    let (_stripe, base) = FakeStripe::start(events).await;

    let wrong_key = StripeApi::new("sk_test_revoked", &base, Duration::from_secs(10)).unwrap();
    let error = reconcile(&app.state.db, &wrong_key, &options(100)).await.unwrap_err();
    assert!(
        matches!(&error, ReconcileError::Stripe(StripeApiError::Api { status: 401, message, .. }) if message == "Invalid API Key provided"),
        "{error:?}"
    );
    assert!(StripeApi::new(" ", &base, Duration::from_secs(10)).is_err(), "an empty key is a configuration error");

    let api = StripeApi::new(SECRET_KEY, &base, Duration::from_secs(10)).unwrap();
    let run = reconcile(&app.state.db, &api, &options(100)).await.unwrap();
    assert_eq!((run.listed, run.filled), (1, 1), "the failed run does not move the window");
    let runs: Vec<(i64, Option<String>)> = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT filled, error FROM stripe_reconciliations ORDER BY id").fetch_all(pool).await.unwrap()
    });
    assert_eq!(runs.len(), 2);
    assert!(runs[0].1.as_deref().is_some_and(|e| e.contains("401")), "{runs:?}");
    assert_eq!(runs[1], (1, None));
}
