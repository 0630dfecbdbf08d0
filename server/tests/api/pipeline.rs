//! Stored events through the queues: processed once, out-of-order safe, unknown types ignored.

use std::{collections::BTreeMap, time::Duration};

use billhook_core::on_db;
use futures::StreamExt;
use rand::seq::SliceRandom;

use crate::{
    helpers::TestApp,
    on_both_databases,
    stripe_events::{customer_event, event, sample},
    webhooks::deliver_signed,
};

on_both_databases!(
    a_stored_event_is_processed_by_a_worker_and_mirrored,
    an_event_type_without_a_handler_is_stored_and_ignored,
    an_older_event_never_overwrites_newer_state,
    a_subscription_created_and_activated_in_one_second_ends_active,
    an_event_that_cannot_be_handled_is_dead_with_its_error_kept,
    a_storm_of_shuffled_duplicated_events_ends_as_in_order_with_each_processed_once,
    workers_that_poll_once_an_hour_are_woken_by_each_new_event,
);

const WITHIN: Duration = Duration::from_secs(30);

async fn send(app: &TestApp, body: &str) {
    deliver_signed(app, body).await;
}

async fn status_of(app: &TestApp, id: &str) -> Option<(String, i64)> {
    on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT status, processed_count FROM webhook_events WHERE id = $1").bind(id).fetch_optional(pool).await
    })
    .unwrap()
}

async fn wait_processed(app: &TestApp, id: &str) {
    app.wait_for(&format!("{id} processed"), WITHIN, || async {
        matches!(status_of(app, id).await, Some((s, _)) if s == "processed").then_some(())
    })
    .await;
}

async fn customer(app: &TestApp, id: &str) -> Option<(Option<String>, bool, String)> {
    on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT email, deleted, event_id FROM stripe_customers WHERE id = $1").bind(id).fetch_optional(pool).await
    })
    .unwrap()
}

fn subscription_event(id: &str, event_type: &str, created: i64, status: &str) -> String {
    let mut object = sample("subscription");
    object["id"] = "sub_one_second".into();
    object["status"] = status.into();
    event(id, event_type, created, object)
}

async fn a_stored_event_is_processed_by_a_worker_and_mirrored(app: TestApp) {
    app.start_workers();
    send(&app, &customer_event("evt_mirror_1", "cus_mirror", 1_700_000_000, "first@example.com")).await;
    wait_processed(&app, "evt_mirror_1").await;
    assert_eq!(status_of(&app, "evt_mirror_1").await.unwrap().1, 1);
    let (email, deleted, source) = customer(&app, "cus_mirror").await.expect("mirrored");
    assert_eq!(email.as_deref(), Some("first@example.com"));
    assert!(!deleted);
    assert_eq!(source, "evt_mirror_1");
    let failed_attempts: i64 = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM job_attempts").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(failed_attempts, 0, "only failed attempts are recorded");
}

/// New jobs wake their workers (SQLite: on commit in this process; PostgreSQL: apalis' NOTIFY,
/// through this process's one LISTEN connection): with polling once an hour, each event is still
/// processed - one after another, each only after the workers went idle again.
async fn workers_that_poll_once_an_hour_are_woken_by_each_new_event(app: TestApp) {
    let options = billhook_core::jobs::WorkerOptions {
        poll_interval: Duration::from_secs(3600),
        heartbeat: Duration::from_secs(2),
        ..Default::default()
    };
    app.start_workers_with(options, None);
    for i in 0..3 {
        // Idle: every worker has fetched nothing and waits.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let id = format!("evt_woken_{i}");
        send(&app, &customer_event(&id, "cus_woken", 1_700_000_000 + i, "woken@example.com")).await;
        wait_processed(&app, &id).await;
    }
}

async fn an_event_type_without_a_handler_is_stored_and_ignored(app: TestApp) {
    let mut price = sample("price");
    price["id"] = "price_new".into();
    send(&app, &event("evt_unknown", "price.created", 1_700_000_000, price)).await;
    assert_eq!(status_of(&app, "evt_unknown").await.unwrap().0, "ignored");
}

async fn an_older_event_never_overwrites_newer_state(app: TestApp) {
    app.start_workers();
    send(&app, &customer_event("evt_newer", "cus_order", 1_700_000_200, "newer@example.com")).await;
    wait_processed(&app, "evt_newer").await;
    send(&app, &customer_event("evt_older", "cus_order", 1_700_000_100, "older@example.com")).await;
    wait_processed(&app, "evt_older").await;
    assert_eq!(customer(&app, "cus_order").await.unwrap().0.as_deref(), Some("newer@example.com"));

    let mut deleted = sample("customer");
    deleted["id"] = "cus_order".into();
    send(&app, &event("evt_deleted", "customer.deleted", 1_700_000_300, deleted)).await;
    send(&app, &customer_event("evt_stale_update", "cus_order", 1_700_000_250, "zombie@example.com")).await;
    wait_processed(&app, "evt_deleted").await;
    wait_processed(&app, "evt_stale_update").await;
    let (email, is_deleted, _) = customer(&app, "cus_order").await.unwrap();
    assert!(is_deleted, "a stale update does not resurrect a deleted customer");
    assert_ne!(email.as_deref(), Some("zombie@example.com"));
}

async fn a_subscription_created_and_activated_in_one_second_ends_active(app: TestApp) {
    app.start_workers();
    // Delivered in the worst order: the activation first.
    send(&app, &subscription_event("evt_sub_b", "customer.subscription.updated", 1_700_000_000, "active")).await;
    send(&app, &subscription_event("evt_sub_a", "customer.subscription.created", 1_700_000_000, "incomplete")).await;
    wait_processed(&app, "evt_sub_a").await;
    wait_processed(&app, "evt_sub_b").await;
    let status: String = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT status FROM stripe_subscriptions WHERE id = 'sub_one_second'").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(status, "active");
}

async fn an_event_that_cannot_be_handled_is_dead_with_its_error_kept(app: TestApp) {
    app.start_workers();
    let mut broken = sample("subscription");
    broken.as_object_mut().unwrap().remove("status");
    send(&app, &event("evt_broken", "customer.subscription.updated", 1_700_000_000, broken)).await;
    app.wait_for("the broken event to fail", WITHIN, || async {
        matches!(status_of(&app, "evt_broken").await, Some((s, _)) if s == "failed").then_some(())
    })
    .await;
    let error: Option<String> = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT error FROM webhook_events WHERE id = 'evt_broken'").fetch_one(pool).await
    })
    .unwrap();
    assert!(error.unwrap().contains("status"), "the reason is kept");
    let attempts: Vec<(i64, Option<String>)> = app
        .wait_for("the attempt to be recorded", WITHIN, || async {
            let rows: Vec<(i64, Option<String>)> = on_db!(&app.state.db, pool => {
                sqlx::query_as("SELECT attempt, error FROM job_attempts").fetch_all(pool).await
            })
            .unwrap();
            (!rows.is_empty()).then_some(rows)
        })
        .await;
    assert_eq!(attempts.len(), 1, "not retried: a payload does not fix itself");
    assert!(attempts[0].1.as_deref().unwrap().contains("status"));
}

async fn a_storm_of_shuffled_duplicated_events_ends_as_in_order_with_each_processed_once(app: TestApp) {
    const EVENTS: usize = 600;
    const CUSTOMERS: usize = 40;
    let events: Vec<(String, String, i64, String)> = (0..EVENTS)
        .map(|i| {
            let id = format!("evt_wave_{i:04}");
            let customer = format!("cus_wave_{}", i % CUSTOMERS);
            (id, customer, 1_700_000_000 + i as i64, format!("v{i}@example.com"))
        })
        .collect();
    // In order, each customer ends with its newest event's e-mail.
    let expected: BTreeMap<&str, &str> = events.iter().map(|(_, c, _, email)| (c.as_str(), email.as_str())).collect();

    let mut bodies: Vec<String> =
        events.iter().map(|(id, c, created, email)| customer_event(id, c, *created, email)).collect();
    let repeats: Vec<String> = bodies.iter().step_by(4).cloned().collect();
    bodies.extend(repeats);
    bodies.shuffle(&mut rand::thread_rng());
    app.start_workers();
    futures::stream::iter(bodies.iter()).for_each_concurrent(32, |body| send(&app, body)).await;

    app.wait_for("every event processed", WITHIN * 4, || async {
        let unfinished: i64 = on_db!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status <> 'processed'").fetch_one(pool).await
        })
        .unwrap();
        (unfinished == 0).then_some(())
    })
    .await;
    let counts: Vec<i64> = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT processed_count FROM webhook_events").fetch_all(pool).await
    })
    .unwrap();
    assert_eq!(counts.len(), EVENTS);
    assert!(counts.iter().all(|c| *c == 1), "each event's effect committed exactly once");
    let mirrored: Vec<(String, Option<String>)> = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT id, email FROM stripe_customers ORDER BY id").fetch_all(pool).await
    })
    .unwrap();
    assert_eq!(mirrored.len(), CUSTOMERS);
    for (id, email) in mirrored {
        assert_eq!(email.as_deref(), Some(expected[id.as_str()]), "{id}");
    }
}
