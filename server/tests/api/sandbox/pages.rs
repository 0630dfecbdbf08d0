//! What people see of the sandbox: a label on every page while it is active, and its keys on the
//! operators' page (for admins only).

use reqwest::StatusCode;

use super::Stripe;
use crate::{
    helpers::{ADMIN, TestApp},
    on_both_databases,
};

on_both_databases!(every_page_is_labelled_and_only_admins_see_the_sandbox_keys);

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
