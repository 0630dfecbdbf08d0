//! Customers' data exports: requested on the account page, built by a job, private, expiring.

use std::time::Duration;

use billhook_core::on_db;
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::{
    helpers::TestApp,
    on_both_databases,
    stripe_events::{event, sample},
    webhooks::deliver_signed,
};

on_both_databases!(
    a_customer_exports_their_data_and_only_they_can_download_it,
    an_expired_export_can_no_longer_be_downloaded,
    asking_again_while_an_export_is_being_made_gives_the_same_export,
    the_export_holds_the_accounts_stripe_customer_subscriptions_and_events,
);

async fn exports_of(app: &TestApp) -> Vec<Value> {
    let response = app.post_form("/api/my_exports", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Vec<Value>>().await.unwrap()
}

async fn ready_export(app: &TestApp) -> String {
    assert_eq!(app.post_form("/api/request_export", &[]).await.status(), StatusCode::OK);
    app.wait_for("the export to be ready", Duration::from_secs(30), || async {
        exports_of(app).await.into_iter().find(|e| e["status"] == "ready").map(|e| e["id"].as_str().unwrap().to_owned())
    })
    .await
}

async fn a_customer_exports_their_data_and_only_they_can_download_it(app: TestApp) {
    app.start_workers();
    app.signed_in_customer("exporter@example.com").await;
    let id = ready_export(&app).await;
    let path = format!("/account/exports/{id}");

    let response = app.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    let archive: Value = response.json().await.unwrap();
    assert_eq!(archive["format"], "billhook-export/1");
    assert_eq!(archive["account"]["email"], "exporter@example.com");
    assert!(archive["exports"].as_array().unwrap().iter().any(|e| e["id"] == id.as_str()));

    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains(&path), "the account page links the download");

    let stranger = app.with_fresh_client();
    let visitor = stranger.get(&path).await;
    assert_eq!(visitor.status(), StatusCode::SEE_OTHER, "visitors are sent to log in");
    assert_eq!(visitor.headers()[header::LOCATION].to_str().unwrap(), format!("/login?next={path}"));
    stranger.signed_in_customer("stranger@example.com").await;
    assert_eq!(
        stranger.get(&path).await.status(),
        StatusCode::NOT_FOUND,
        "another customer's export does not exist for them"
    );
}

async fn an_expired_export_can_no_longer_be_downloaded(app: TestApp) {
    app.start_workers();
    app.signed_in_customer("late@example.com").await;
    let id = ready_export(&app).await;
    on_db!(&app.state.db, pool => {
        sqlx::query("UPDATE data_exports SET expires_at = 1 WHERE id = $1").bind(&id).execute(pool).await.map(|r| r.rows_affected())
    })
    .unwrap();
    assert_eq!(app.get(&format!("/account/exports/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(billhook_core::exports::expire(&app.state.db).await.unwrap(), 1);
    let (status, archive): (String, Option<String>) = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT status, archive FROM data_exports WHERE id = $1").bind(&id).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!((status.as_str(), archive), ("expired", None), "the archive itself is dropped");
}

async fn asking_again_while_an_export_is_being_made_gives_the_same_export(app: TestApp) {
    app.signed_in_customer("eager@example.com").await;
    for _ in 0..3 {
        assert_eq!(app.post_form("/api/request_export", &[]).await.status(), StatusCode::OK);
    }
    let exports = exports_of(&app).await;
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0]["status"], "queued");
    assert_eq!(app.with_fresh_client().post_form("/api/request_export", &[]).await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_export_holds_the_accounts_stripe_customer_subscriptions_and_events(app: TestApp) {
    app.start_workers();
    app.signed_in_customer("subscriber@example.com").await;
    let user = app.state.accounts.user_by_email("subscriber@example.com").await.unwrap().unwrap();
    let created = billhook_core::clock::now_ms() / 1000;
    // Billing links its Stripe customer to the account through the customer's metadata.
    let mut customer = sample("customer");
    customer["id"] = "cus_export_mine".into();
    customer["metadata"] = serde_json::json!({ "billhook_user_id": user.id.to_string() });
    let mut subscription = sample("subscription");
    subscription["id"] = "sub_export_mine".into();
    subscription["customer"] = "cus_export_mine".into();
    subscription["status"] = "active".into();
    let mut someone_else = sample("customer");
    someone_else["id"] = "cus_export_other".into();
    someone_else["metadata"] = serde_json::json!({ "billhook_user_id": (user.id + 1000).to_string() });
    let events = [
        ("evt_export_1", event("evt_export_1", "customer.created", created, customer)),
        ("evt_export_2", event("evt_export_2", "customer.subscription.created", created + 1, subscription)),
        ("evt_export_3", event("evt_export_3", "customer.created", created + 2, someone_else)),
    ];
    for (_, body) in &events {
        deliver_signed(&app, body).await;
    }
    app.wait_for("the events mirrored", Duration::from_secs(30), || async {
        let processed: i64 = on_db!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status = 'processed'").fetch_one(pool).await.unwrap()
        });
        (processed == 3).then_some(())
    })
    .await;

    let id = ready_export(&app).await;
    let archive: Value = app.get(&format!("/account/exports/{id}")).await.json().await.unwrap();
    let ids = |key: &str| -> Vec<String> {
        archive[key].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids("stripe_customers"), ["cus_export_mine"]);
    assert_eq!(ids("subscriptions"), ["sub_export_mine"]);
    assert_eq!(archive["subscriptions"][0]["status"], "active");
    assert_eq!(ids("stripe_events"), ["evt_export_1", "evt_export_2"], "another account's events stay out");
    assert_eq!(archive["stripe_events"][1]["event"]["data"]["object"]["id"], "sub_export_mine");
}
