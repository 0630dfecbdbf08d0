//! The sandbox in its shuffling mode (`BILLHOOK_SANDBOX_SHUFFLE_DELIVERIES`): each batch of
//! deliveries in random order and about a third of the events sent twice, as Stripe may. However
//! they arrive, Billhook's mirror ends with the state Stripe (the sandbox) holds.

use std::time::Duration;

use billhook_core::on_db;

use super::{Stripe, json, same_second::settle};
use crate::helpers::{Backend, spawn_app_with};

mod shuffled_duplicated_deliveries_end_in_the_state_stripe_holds {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        run(Backend::Postgres).await;
    }
}

async fn run(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.sandbox_shuffle_deliveries = true).await;
    app.start_workers();
    let stripe = Stripe::of(&app).await;
    let (customers, subscriptions) = churn(&stripe).await;
    settle(&app, Duration::from_secs(60)).await;

    let (events, duplicated, reprocessed): (i64, i64, i64) = on_db!(&app.state.db, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN delivery_count > 1 THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN processed_count > 1 THEN 1 ELSE 0 END), 0) FROM webhook_events",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let deliveries: i64 = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_deliveries").fetch_one(pool).await.unwrap()
    });
    assert_eq!(events, deliveries, "each event stored once, however often it came");
    assert!(duplicated > 0, "some of the {events} events arrived twice");
    assert_eq!(reprocessed, 0, "a duplicate's effect never commits twice");

    for id in customers {
        let truth = json(stripe.get(&format!("/v1/customers/{id}")).await).await;
        let mirrored: (Option<String>, Option<String>) = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT email, name FROM stripe_customers WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap()
        });
        assert_eq!(
            (mirrored.0.as_deref(), mirrored.1.as_deref()),
            (truth["email"].as_str(), truth["name"].as_str()),
            "customer {id}"
        );
    }
    for id in subscriptions {
        let truth = json(stripe.get(&format!("/v1/subscriptions/{id}")).await).await;
        let mirrored: (String, bool) = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT status, cancel_at_period_end FROM stripe_subscriptions WHERE id = $1")
                .bind(&id)
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(
            (mirrored.0.as_str(), mirrored.1),
            (truth["status"].as_str().unwrap(), truth["cancel_at_period_end"].as_bool().unwrap()),
            "subscription {id}"
        );
    }
}

/// Customers changed several times each and subscriptions taken through their statuses, as fast
/// as the API answers (most changes of one object share a second). Returns their ids.
async fn churn(stripe: &Stripe) -> (Vec<String>, Vec<String>) {
    let price = stripe.monthly_price("500").await;

    let (mut customers, mut subscriptions) = (Vec::new(), Vec::new());
    for n in 0..6 {
        let customer = json(stripe.post("/v1/customers", &[("email", &format!("c{n}@example.com"))]).await).await;
        let id = customer["id"].as_str().unwrap().to_owned();
        for round in 0..n % 3 + 1 {
            let (email, name) = (format!("c{n}.v{round}@example.com"), format!("Customer {n} v{round}"));
            json(stripe.post(&format!("/v1/customers/{id}"), &[("email", &email), ("name", &name)]).await).await;
        }
        stripe.give_default_card(&id, "pm_card_visa").await;
        let subscription =
            json(stripe.post("/v1/subscriptions", &[("customer", &id), ("items[0][price]", &price)]).await).await;
        let sub = subscription["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/subscriptions/{sub}");
        match n % 3 {
            // Cancel at period end.
            0 => drop(json(stripe.post(&path, &[("cancel_at_period_end", "true")]).await).await),
            // Cancel at period end, then change of mind.
            1 => {
                json(stripe.post(&path, &[("cancel_at_period_end", "true")]).await).await;
                json(stripe.post(&path, &[("cancel_at_period_end", "false")]).await).await;
            }
            // Cancel now.
            _ => {
                let url = format!("{}{path}", stripe.base);
                let cancelled = stripe.http.delete(url).bearer_auth(&stripe.secret).send().await.unwrap();
                json(cancelled).await;
            }
        }
        customers.push(id);
        subscriptions.push(sub);
    }
    (customers, subscriptions)
}
