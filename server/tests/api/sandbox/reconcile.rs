//! Billhook's reconciliation job reads the sandbox's events as it reads Stripe's: with no Stripe
//! key, the scheduler's Stripe client is the sandbox, and a delivery that was lost is filled.

use std::time::Duration;

use billhook_core::{
    events::reconcile::{ReconcileOptions, reconcile},
    on_db,
};
use billhook_server::config::Settings;

use super::{Stripe, json};
use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(reconciliation_reads_the_sandbox_and_fills_a_lost_delivery);

async fn reconciliation_reads_the_sandbox_and_fills_a_lost_delivery(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    json(stripe.post("/v1/customers", &[("email", "lost@example.com")]).await).await;
    let events = json(stripe.get("/v1/events?type=customer.created").await).await;
    let event_id = events["data"][0]["id"].as_str().unwrap().to_owned();
    let stored = || {
        let (db, event_id) = (app.state.db.clone(), event_id.clone());
        async move {
            on_db!(&db, pool => {
                sqlx::query_scalar::<_, String>("SELECT source FROM webhook_events WHERE id = $1").bind(&event_id).fetch_optional(pool).await.unwrap()
            })
        }
    };
    app.wait_for("the delivery stored", Duration::from_secs(20), stored).await;

    // The delivery is lost after all (as if the endpoint had been down).
    on_db!(&app.state.db, pool => {
        sqlx::query("DELETE FROM webhook_events WHERE id = $1").bind(&event_id).execute(pool).await.unwrap();
    });

    let settings = Settings { public_url: Some(app.address.parse().unwrap()), ..Settings::default() };
    let site: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let client =
        billhook_server::sandbox::stripe_api(&settings, &app.state.db, site).await.unwrap().expect("the sandbox runs");
    let outcome = reconcile(&app.state.db, &client, &ReconcileOptions::default()).await.unwrap();
    assert!(outcome.listed >= 1, "{outcome:?}");
    assert_eq!(outcome.filled, 1, "the lost event, and only it");
    assert_eq!(stored().await.as_deref(), Some("reconciliation"));
}
