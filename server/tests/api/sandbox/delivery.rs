//! The sandbox's events reach Billhook as Stripe's do: signed deliveries to `/webhooks/stripe`,
//! stored by the real ingest path and processed by the real pipeline.

use std::time::Duration;

use billhook_core::on_db;

use super::{Stripe, json};
use crate::{
    helpers::{TestApp, wait_or_explain},
    on_both_databases,
};

on_both_databases!(a_sandbox_customer_reaches_the_mirror_through_a_signed_delivery);

async fn a_sandbox_customer_reaches_the_mirror_through_a_signed_delivery(app: TestApp) {
    let user = app.state.accounts.sign_up("mirror@example.com", "customer password".into(), "127.0.0.1").await.unwrap();
    app.start_workers();
    let stripe = Stripe::of(&app).await;
    let customer = json(
        stripe
            .post(
                "/v1/customers",
                &[("email", "mirror@example.com"), ("metadata[billhook_user_id]", &user.id.to_string())],
            )
            .await,
    )
    .await;
    let customer_id = customer["id"].as_str().unwrap().to_owned();
    let events = json(stripe.get("/v1/events?type=customer.created").await).await;
    let event_id = events["data"][0]["id"].as_str().unwrap().to_owned();

    // Stored by the webhook endpoint (a delivery, not reconciliation), then processed.
    let (source, status) = wait_or_explain("the event stored and processed", Duration::from_secs(30), || {
        let (db, event_id) = (app.state.db.clone(), event_id.clone());
        async move {
            let stored: Option<(String, String)> = on_db!(&db, pool => {
                sqlx::query_as("SELECT source, status FROM webhook_events WHERE id = $1").bind(&event_id).fetch_optional(pool).await.unwrap()
            });
            if let Some(processed) = stored.clone().filter(|(_, status)| status == "processed") {
                return Ok(processed);
            }
            let delivery: Option<(i64, Option<i64>, Option<String>)> = on_db!(&db, pool => {
                sqlx::query_as("SELECT attempts, last_status, last_error FROM sandbox_deliveries WHERE event_id = $1")
                    .bind(&event_id)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
            });
            Err(format!("stored: {stored:?}; delivery (attempts, status, error): {delivery:?}"))
        }
    })
    .await;
    assert_eq!((source.as_str(), status.as_str()), ("webhook", "processed"));
    let mirrored: (Option<String>, Option<i64>) = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT email, user_id FROM stripe_customers WHERE id = $1").bind(&customer_id).fetch_one(pool).await.unwrap()
    });
    assert_eq!(mirrored, (Some("mirror@example.com".to_owned()), Some(user.id)));

    let (attempts, delivered_status): (i64, Option<i64>) = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT attempts, last_status FROM sandbox_deliveries WHERE event_id = $1")
            .bind(&event_id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!((attempts, delivered_status), (1, Some(200)), "delivered once, acknowledged");
}
