use std::collections::HashSet;

use billhook_core::{clock, webhooks::sign};
use futures::StreamExt;
use rand::seq::SliceRandom;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{TestApp, WEBHOOK_SECRETS},
    on_both_databases,
    stripe_events::{customer_updated, sdk_signature},
};

on_both_databases!(
    a_delivery_signed_by_stripes_sdk_is_stored_and_acknowledged,
    a_delivery_signed_with_the_previous_secret_is_accepted_while_rotating,
    a_tampered_body_is_refused_and_not_stored,
    a_wrong_secret_is_refused,
    a_stale_timestamp_is_refused,
    missing_or_malformed_signature_headers_are_refused_with_their_reason,
    a_duplicate_delivery_is_acknowledged_stored_once_and_counted,
    a_signed_body_that_is_not_an_event_is_refused_and_kept,
    an_oversized_delivery_is_refused_with_413,
    a_delivery_the_database_cannot_take_gets_503,
    a_storm_of_shuffled_duplicated_deliveries_stores_each_event_once,
);

pub const CURRENT: &str = WEBHOOK_SECRETS[1];

fn now() -> i64 {
    clock::now_ms() / 1000
}

pub async fn deliver(app: &TestApp, body: &str, signature: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/webhooks/stripe")).header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.body(body.to_owned()).send().await.expect("POST /webhooks/stripe")
}

/// Delivers `body` signed with the current secret, as Stripe would; checks it is acknowledged
/// and returns the endpoint's JSON answer.
pub async fn deliver_signed(app: &TestApp, body: &str) -> serde_json::Value {
    let response = deliver(app, body, Some(&sign(CURRENT, now(), body.as_bytes()))).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn stored_events(app: &TestApp) -> Vec<(String, i64)> {
    billhook_core::on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT id, delivery_count FROM webhook_events ORDER BY id").fetch_all(pool).await
    })
    .unwrap()
}

/// The refusals written for the cluster once `count` are (this test's flush, or the web node's).
async fn refusals_written(app: &TestApp, count: usize) -> Vec<billhook_core::dashboard::refusals::RefusalRow> {
    app.state.webhooks.refused.flush(&app.state.db, "test-node").await.unwrap();
    app.wait_for("the refusals are written", std::time::Duration::from_secs(15), || async {
        let rows = billhook_core::dashboard::refusals::recent(&app.state.db, 100).await.unwrap();
        (rows.len() >= count).then_some(rows)
    })
    .await
}

async fn error_of(response: reqwest::Response) -> String {
    response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned()
}

async fn a_delivery_signed_by_stripes_sdk_is_stored_and_acknowledged(app: TestApp) {
    let body = customer_updated("evt_sdk_1", "cus_sdk_1", now());
    let response = deliver(&app, &body, Some(&sdk_signature(&body, CURRENT, now()))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["duplicate"], false);

    let row: (String, String, Option<String>, bool, Option<String>, String, String, i64, String) =
        billhook_core::on_db!(&app.state.db, pool => {
            sqlx::query_as(
                "SELECT event_type, payload, api_version, livemode, object_id, headers, status, delivery_count, id \
                 FROM webhook_events WHERE id = 'evt_sdk_1'",
            )
            .fetch_one(pool)
            .await
        })
        .unwrap();
    assert_eq!(row.0, "customer.updated");
    assert_eq!(row.1, body, "the raw body is kept byte for byte");
    assert_eq!(row.2.as_deref(), Some("2026-09-30.clover"));
    assert!(!row.3);
    assert_eq!(row.4.as_deref(), Some("cus_sdk_1"));
    assert!(row.5.contains("stripe-signature"), "delivery headers are kept: {}", row.5);
    assert_eq!(row.6, "received", "customer events have a handler: recorded, for the workers' dispatchers to queue");
    assert_eq!(row.7, 1);
}

async fn a_delivery_signed_with_the_previous_secret_is_accepted_while_rotating(app: TestApp) {
    let body = customer_updated("evt_rotate", "cus_rotate", now());
    let previous = sdk_signature(&body, WEBHOOK_SECRETS[0], now());
    assert_eq!(deliver(&app, &body, Some(&previous)).await.status(), StatusCode::OK);
    // Stripe sends two v1 signatures while a secret rolls: one for each.
    let other = sign("whsec_not_ours", now(), body.as_bytes());
    let both = format!("{previous},{}", other.split(',').nth(1).unwrap());
    assert_eq!(deliver(&app, &body, Some(&both)).await.status(), StatusCode::OK);
}

async fn a_tampered_body_is_refused_and_not_stored(app: TestApp) {
    let body = customer_updated("evt_tamper", "cus_1", now());
    let signature = sdk_signature(&body, CURRENT, now());
    let tampered = body.replace("cus_1", "cus_2");
    let response = deliver(&app, &tampered, Some(&signature)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(response).await, "signature_mismatch");
    assert!(stored_events(&app).await.is_empty());
    let refused = refusals_written(&app, 1).await;
    assert_eq!(refused[0].reason, "signature_mismatch");
    assert_eq!(refused[0].source, "127.0.0.1");
    assert_eq!(refused[0].size, i64::try_from(tampered.len()).unwrap());
}

async fn a_wrong_secret_is_refused(app: TestApp) {
    let body = customer_updated("evt_wrong_secret", "cus_1", now());
    let response = deliver(&app, &body, Some(&sdk_signature(&body, "whsec_someone_else", now()))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(response).await, "signature_mismatch");
    assert!(stored_events(&app).await.is_empty());
}

async fn a_stale_timestamp_is_refused(app: TestApp) {
    let body = customer_updated("evt_stale", "cus_1", now());
    let response = deliver(&app, &body, Some(&sdk_signature(&body, CURRENT, now() - 301))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(response).await, "stale_timestamp");
    assert!(stored_events(&app).await.is_empty());
}

async fn missing_or_malformed_signature_headers_are_refused_with_their_reason(app: TestApp) {
    let body = customer_updated("evt_malformed", "cus_1", now());
    assert_eq!(error_of(deliver(&app, &body, None).await).await, "missing_signature");
    for bad in ["", "nonsense", "v1=abc", "t=yesterday,v1=00", &format!("t={}", now())] {
        let response = deliver(&app, &body, Some(bad)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(error_of(response).await, "malformed_signature", "{bad:?}");
    }
    assert!(stored_events(&app).await.is_empty());
    assert_eq!(refusals_written(&app, 6).await.len(), 6);
}

async fn a_duplicate_delivery_is_acknowledged_stored_once_and_counted(app: TestApp) {
    let body = customer_updated("evt_twice", "cus_1", now());
    for expected_duplicate in [false, true, true] {
        let response = deliver(&app, &body, Some(&sdk_signature(&body, CURRENT, now()))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["duplicate"], expected_duplicate);
    }
    assert_eq!(stored_events(&app).await, vec![("evt_twice".to_owned(), 3)]);
}

async fn a_signed_body_that_is_not_an_event_is_refused_and_kept(app: TestApp) {
    let body = "this is not JSON";
    let response = deliver(&app, body, Some(&sign(CURRENT, now(), body.as_bytes()))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(response).await, "not_an_event");
    let rejected: Vec<(String, String)> = billhook_core::on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT reason, payload FROM webhook_rejections").fetch_all(pool).await
    })
    .unwrap();
    assert_eq!(rejected, vec![("not_an_event".to_owned(), body.to_owned())]);
    assert!(stored_events(&app).await.is_empty());
}

async fn an_oversized_delivery_is_refused_with_413(app: TestApp) {
    let mut customer = crate::stripe_events::sample("customer");
    customer["description"] = "x".repeat(1024 * 1024).into();
    let body = crate::stripe_events::event("evt_big", "customer.updated", now(), customer);
    let response = deliver(&app, &body, Some(&sign(CURRENT, now(), body.as_bytes()))).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_of(response).await, "body_too_large");
    assert!(stored_events(&app).await.is_empty());
}

async fn a_delivery_the_database_cannot_take_gets_503(app: TestApp) {
    app.state.db.close().await;
    let body = customer_updated("evt_db_down", "cus_1", now());
    let response = deliver(&app, &body, Some(&sign(CURRENT, now(), body.as_bytes()))).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "never a 2xx for an event that was not stored");
    assert_eq!(error_of(response).await, "storage_unavailable");
}

async fn a_storm_of_shuffled_duplicated_deliveries_stores_each_event_once(app: TestApp) {
    const EVENTS: usize = 1500;
    let created = now();
    let mut deliveries: Vec<(String, String)> = (0..EVENTS)
        .map(|i| {
            (
                format!("evt_storm_{i:05}"),
                customer_updated(&format!("evt_storm_{i:05}"), &format!("cus_{}", i % 50), created + i as i64),
            )
        })
        .collect();
    // Every third event is delivered twice more.
    let repeats: Vec<(String, String)> = deliveries.iter().step_by(3).flat_map(|d| [d.clone(), d.clone()]).collect();
    deliveries.extend(repeats);
    deliveries.shuffle(&mut rand::thread_rng());
    let total = deliveries.len();

    let statuses: Vec<StatusCode> = futures::stream::iter(deliveries.iter())
        .map(|(_, body)| {
            let app = &app;
            async move { deliver(app, body, Some(&sign(CURRENT, now(), body.as_bytes()))).await.status() }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{:?}",
        statuses.iter().filter(|s| **s != StatusCode::OK).collect::<Vec<_>>()
    );

    let stored = stored_events(&app).await;
    assert_eq!(stored.len(), EVENTS, "each event stored once");
    let ids: HashSet<&str> = stored.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), EVENTS);
    let counted: i64 = stored.iter().map(|(_, count)| count).sum();
    assert_eq!(counted as usize, total, "every delivery counted");
    for (i, (id, count)) in stored.iter().enumerate() {
        assert_eq!(*count, if i % 3 == 0 { 3 } else { 1 }, "{id}");
    }
}
