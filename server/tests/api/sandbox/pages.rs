//! What people see of the sandbox: a label on every page while it is active, and its keys on the
//! operators' page (for admins only).

use reqwest::StatusCode;

use super::{Stripe, json};
use crate::{
    helpers::{ADMIN, TestApp},
    on_both_databases,
};

on_both_databases!(
    every_page_is_labelled_and_only_admins_see_the_sandbox_keys,
    an_admin_sees_the_deliveries_and_advances_a_clock_to_its_next_renewal,
    the_stripe_js_stand_in_is_served_and_its_page_takes_only_a_client_secret,
);

async fn every_page_is_labelled_and_only_admins_see_the_sandbox_keys(app: TestApp) {
    for page in ["/", "/login", "/signup"] {
        let html = app.get(page).await.text().await.unwrap();
        assert!(html.contains(r#"data-testid="sandbox-label""#), "{page} carries the sandbox label");
    }

    let keys = Stripe::of(&app).await;
    app.signed_in_customer("shopper@example.com").await;
    let refused = app.post_form("/api/sandbox_keys", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a customer may not read the keys");
    app.log_out().await;

    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let html = app.get("/admin").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="sandbox-controls""#), "{html}");
    assert!(html.contains(&keys.secret), "the admin sees the secret key");
    let answer: serde_json::Value = app.post_form("/api/sandbox_keys", &[]).await.json().await.unwrap();
    assert_eq!(answer["publishable_key"].as_str().unwrap_or_default().get(..8), Some("pk_test_"));
}

async fn an_admin_sees_the_deliveries_and_advances_a_clock_to_its_next_renewal(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let product = json(stripe.post("/v1/products", &[("name", "Basic")]).await).await;
    let form = [
        ("product", product["id"].as_str().unwrap()),
        ("currency", "eur"),
        ("unit_amount", "900"),
        ("recurring[interval]", "month"),
    ];
    let price = json(stripe.post("/v1/prices", &form).await).await;
    let clock = json(stripe.post("/v1/test_helpers/test_clocks", &[("frozen_time", "1767225600")]).await).await;
    let clock = clock["id"].as_str().unwrap();
    let customer =
        json(stripe.post("/v1/customers", &[("email", "clocked@example.com"), ("test_clock", clock)]).await).await;
    let customer = customer["id"].as_str().unwrap();
    let card = json(stripe.post("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer)]).await).await;
    let form = [
        ("customer", customer),
        ("items[0][price]", price["id"].as_str().unwrap()),
        ("default_payment_method", card["id"].as_str().unwrap()),
    ];
    let subscription = json(stripe.post("/v1/subscriptions", &form).await).await;
    let renews_at = subscription["items"]["data"][0]["current_period_end"].as_i64().unwrap();

    app.signed_in_customer("nosy@example.com").await;
    let refused = app.post_form("/api/advance_sandbox_clock", &[("clock", clock), ("by", "renewal")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    app.log_out().await;

    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let activity: serde_json::Value = app.post_form("/api/sandbox_activity", &[]).await.json().await.unwrap();
    assert_eq!(activity["clocks"][0]["id"], clock);
    assert_eq!(activity["clocks"][0]["next_renewal"], renews_at * 1000);
    assert!(
        activity["deliveries"].as_array().unwrap().iter().any(|d| d["event_type"] == "customer.subscription.created")
    );
    let html = app.get("/admin").await.text().await.unwrap();
    assert!(
        html.contains(r#"data-testid="sandbox-clock""#) && html.contains(r#"data-testid="sandbox-deliveries""#),
        "{html}"
    );

    let bogus = app.post_form("/api/advance_sandbox_clock", &[("clock", clock), ("by", "century")]).await;
    assert_eq!(bogus.status(), StatusCode::BAD_REQUEST);
    let advanced = app.post_form("/api/advance_sandbox_clock", &[("clock", clock), ("by", "renewal")]).await;
    assert_eq!(advanced.status(), StatusCode::OK);
    let moved = json(stripe.get(&format!("/v1/test_helpers/test_clocks/{clock}")).await).await;
    assert_eq!(moved["frozen_time"], renews_at, "moved to the renewal");
    let invoices =
        json(stripe.get(&format!("/v1/invoices?subscription={}", subscription["id"].as_str().unwrap())).await).await;
    let statuses: Vec<&str> =
        invoices["data"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["paid", "paid"], "the renewal was invoiced and paid");
}

async fn the_stripe_js_stand_in_is_served_and_its_page_takes_only_a_client_secret(app: TestApp) {
    let script = app.get("/sandbox/stripe/js/v3").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    assert!(script.text().await.unwrap().contains("window.Stripe"));

    let keys = Stripe::of(&app).await;
    let intent = json(keys.post("/v1/payment_intents", &[("amount", "500"), ("currency", "eur")]).await).await;
    let secret = intent["client_secret"].as_str().unwrap();
    let page = app.get(&format!("/sandbox/stripe/js/try?client_secret={secret}")).await.text().await.unwrap();
    let publishable =
        billhook_sandbox::Sandbox::open(app.state.db.clone(), None).await.unwrap().keys().publishable.clone();
    assert!(page.contains(&publishable) && page.contains(secret), "the page pays this intent with the publishable key");
    let forged = app.get("/sandbox/stripe/js/try?client_secret=%22%29%3Balert%281%29%2F%2F").await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST, "nothing but a client secret is written into the page");
}
