//! Two changes of one object within one second: Stripe stamps events in whole seconds and event
//! ids are random, so the events alone cannot say which is newer. The mirror reads the object
//! from Stripe (here the sandbox) when an event ties with what it holds, so it ends with what
//! Stripe says now, in whichever order the events arrive. The stale events here carry the highest
//! possible ids, so a mirror that ordered ties by id would keep them.

use std::time::Duration;

use billhook_core::on_db;
use serde_json::Value;

use super::{Stripe, json};
use crate::{
    helpers::{TestApp, wait_or_explain},
    on_both_databases,
    stripe_events::event,
    webhooks::deliver_signed,
};

on_both_databases!(
    a_customer_changed_twice_in_one_second_ends_as_stripe_says_in_either_order,
    a_subscription_changed_twice_in_one_second_ends_as_stripe_says_in_either_order,
);

const WITHIN: Duration = Duration::from_secs(30);

/// An event id that sorts after any id Stripe (or the sandbox) makes.
fn highest_id(n: usize) -> String {
    format!("evt_{}{n}", "z".repeat(40))
}

/// The second of the sandbox's newest `event_type` event about object `id`.
async fn second_of_latest(stripe: &Stripe, event_type: &str, id: &str) -> i64 {
    let events = json(stripe.get(&format!("/v1/events?type={event_type}&limit=100")).await).await;
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["object"]["id"] == id)
        .and_then(|e| e["created"].as_i64())
        .unwrap_or_else(|| panic!("no {event_type} event for {id}"))
}

/// Sends the fresh and the stale version of one object, both stamped `created`, stale last or first.
async fn send_pair(
    app: &TestApp,
    event_type: &str,
    created: i64,
    fresh: Value,
    stale: Value,
    n: usize,
    stale_last: bool,
) {
    let fresh = event(&format!("evt_fresh_{n}"), event_type, created, fresh);
    let stale = event(&highest_id(n), event_type, created, stale);
    let order = if stale_last { [fresh, stale] } else { [stale, fresh] };
    for body in order {
        deliver_signed(app, &body).await;
    }
}

/// Waits until nothing is left to do: every sandbox event delivered, every event processed, no
/// read of Stripe pending.
pub async fn settle(app: &TestApp, within: Duration) {
    wait_or_explain("every event delivered and processed, every read done", within, || async {
        let (unprocessed, undelivered): (i64, i64) = on_db!(&app.state.db, pool => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM webhook_events WHERE status NOT IN ('processed', 'ignored')), \
                        (SELECT COUNT(*) FROM sandbox_deliveries WHERE delivered_at IS NULL)",
            )
            .fetch_one(pool)
            .await
            .unwrap()
        });
        let mut jobs = Vec::new();
        for (queue, _) in billhook_core::jobs::queues() {
            jobs.push((queue, app.unfinished_jobs(queue).await));
        }
        if unprocessed + undelivered + jobs.iter().map(|(_, n)| n).sum::<i64>() == 0 {
            return Ok(());
        }
        let errors: Vec<(String, Option<String>)> = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT queue, error FROM job_attempts ORDER BY id DESC LIMIT 5").fetch_all(pool).await.unwrap()
        });
        Err(format!(
            "events not processed: {unprocessed}; not delivered: {undelivered}; unfinished jobs by queue: \
             {jobs:?}; last failed attempts: {errors:?}"
        ))
    })
    .await;
}

async fn a_customer_changed_twice_in_one_second_ends_as_stripe_says_in_either_order(app: TestApp) {
    app.start_workers();
    let stripe = Stripe::of(&app).await;
    let mut expected = Vec::new();
    for (n, stale_last) in [(0, true), (1, false)] {
        let created = json(stripe.post("/v1/customers", &[("email", &format!("first{n}@example.com"))]).await).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let email = format!("second{n}@example.com");
        let updated = json(stripe.post(&format!("/v1/customers/{id}"), &[("email", &email)]).await).await;
        let second = second_of_latest(&stripe, "customer.updated", &id).await;
        send_pair(&app, "customer.updated", second, updated, created, n, stale_last).await;
        expected.push((id, email));
    }
    settle(&app, WITHIN).await;
    for (id, email) in expected {
        let mirrored: (Option<String>, String) = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT email, event_id FROM stripe_customers WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap()
        });
        assert_eq!(mirrored.0.as_deref(), Some(email.as_str()), "{id}: Stripe's e-mail, not the stale event's");
        assert!(!mirrored.1.starts_with("evt_zzz"), "{id}: the stale event does not stay the source");
    }
}

async fn a_subscription_changed_twice_in_one_second_ends_as_stripe_says_in_either_order(app: TestApp) {
    app.start_workers();
    let stripe = Stripe::of(&app).await;
    let price = stripe.monthly_price("500").await;
    let mut expected = Vec::new();
    for (n, stale_last) in [(0, true), (1, false)] {
        let customer = json(stripe.post("/v1/customers", &[("email", &format!("sub{n}@example.com"))]).await).await;
        let customer = customer["id"].as_str().unwrap();
        stripe.give_default_card(customer, "pm_card_visa").await;
        let active =
            json(stripe.post("/v1/subscriptions", &[("customer", customer), ("items[0][price]", &price)]).await).await;
        assert_eq!(active["status"], "active");
        let id = active["id"].as_str().unwrap().to_owned();
        // The issue's own case: an update, then cancel at period end, in one second.
        let leaving =
            json(stripe.post(&format!("/v1/subscriptions/{id}"), &[("cancel_at_period_end", "true")]).await).await;
        let second = second_of_latest(&stripe, "customer.subscription.updated", &id).await;
        send_pair(&app, "customer.subscription.updated", second, leaving, active, n, stale_last).await;
        expected.push(id);
    }
    settle(&app, WITHIN).await;
    for id in expected {
        let mirrored: (String, bool) = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT status, cancel_at_period_end FROM stripe_subscriptions WHERE id = $1")
                .bind(&id)
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(mirrored, ("active".to_owned(), true), "{id}: cancelling at period end, as Stripe says");
    }
}
