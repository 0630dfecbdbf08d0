//! The processing backlog's bound: while more events wait to be processed than the bound, signed
//! deliveries are refused with 503 (Stripe retries them) and nothing more is stored; once the
//! workers catch up, deliveries are stored again - the refused one too, when Stripe sends it again.

use std::time::Duration;

use billhook_core::{clock, webhooks::sign};
use billhook_server::config::Settings;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::TestApp,
    on_both_databases_with,
    stripe_events::customer_updated,
    webhooks::{CURRENT, deliver},
};

on_both_databases_with!(bounded; over_its_bound_the_backlog_refuses_deliveries_until_the_workers_catch_up);

const BOUND: u64 = 3;

fn bounded(settings: &mut Settings) {
    settings.webhook_max_backlog = BOUND;
}

/// Sends event `n` (a customer update) signed as Stripe would.
async fn send(app: &TestApp, n: u64) -> (StatusCode, Value) {
    let now = clock::now_ms() / 1000;
    let body = customer_updated(&format!("evt_backlog_{n}"), &format!("cus_backlog_{n}"), now);
    let response = deliver(app, &body, Some(&sign(CURRENT, now, body.as_bytes()))).await;
    (response.status(), response.json().await.unwrap())
}

async fn stored(app: &TestApp) -> Vec<(String, i64)> {
    billhook_core::on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT id, delivery_count FROM webhook_events ORDER BY id").fetch_all(pool).await
    })
    .unwrap()
}

async fn over_its_bound_the_backlog_refuses_deliveries_until_the_workers_catch_up(app: TestApp) {
    // No workers yet: every stored event waits to be processed.
    for n in 0..=BOUND {
        assert_eq!(send(&app, n).await.0, StatusCode::OK, "event {n} is stored while the backlog is within its bound");
    }
    app.wait_for("the node counts the backlog over its bound", Duration::from_secs(10), || async {
        app.state.webhooks.backlog.is_over().then_some(())
    })
    .await;
    let (status, refused) = send(&app, 100).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused["error"], "backlog_full", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("try again later"), "{refused}");
    // A repeat of a stored event is refused as well (Stripe's retry will find it stored).
    assert_eq!(send(&app, 0).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let before: Vec<(String, i64)> = (0..=BOUND).map(|n| (format!("evt_backlog_{n}"), 1)).collect();
    assert_eq!(stored(&app).await, before, "nothing refused was stored or counted");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"webhook_deliveries_total{outcome="backlog_full"}"#), "the refusals are counted");
    assert!(metrics.contains("webhook_backlog "), "the backlog is a gauge");

    // The workers catch up; Stripe's next attempt is stored.
    app.start_workers();
    app.wait_for("deliveries are stored again", Duration::from_secs(30), || async {
        (send(&app, 100).await.0 == StatusCode::OK).then_some(())
    })
    .await;
    let events = stored(&app).await;
    assert_eq!(events.len(), 5, "{events:?}");
    assert!(events.contains(&("evt_backlog_100".to_owned(), 1)), "{events:?}");
}
