//! Billing against the offline Stripe sandbox: the catalogue synced to Stripe, subscribing, and
//! what follows (renewals, plan changes, add-ons, custom domains), through the server functions
//! the pages call.

mod catalogue;
mod lifecycle;
mod subscribe;

use billhook_core::billing::sync_catalogue;
use billhook_model::Catalogue;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

pub async fn call(app: &TestApp, function: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app.post_form(&format!("/api/{function}"), form).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub async fn ok(app: &TestApp, function: &str, form: &[(&str, &str)]) -> Value {
    let (status, body) = call(app, function, form).await;
    assert_eq!(status, StatusCode::OK, "{function}: {body}");
    body
}

pub async fn ready(app: &TestApp) {
    sync_catalogue(&app.stripe_api().unwrap(), &Catalogue::default()).await.unwrap();
}

/// Confirms the checkout's intent (payment or setup) with `method`, as Stripe.js does: the
/// publishable key and the client secret. Returns the answer.
pub async fn confirm_as_stripe_js(app: &TestApp, checkout: &Value, method: &str) -> reqwest::Response {
    let secret = checkout["client_secret"].as_str().unwrap();
    let intent = secret.split("_secret_").next().unwrap();
    let collection = if secret.starts_with("seti_") { "setup_intents" } else { "payment_intents" };
    reqwest::Client::new()
        .post(app.url(&format!("/sandbox/stripe/v1/{collection}/{intent}/confirm")))
        .bearer_auth(checkout["publishable_key"].as_str().unwrap())
        .form(&[("client_secret", secret), ("payment_method", method), ("return_url", &app.url("/account"))])
        .send()
        .await
        .unwrap()
}

pub fn plan<'a>(plans: &'a Value, key: &str) -> &'a Value {
    plans.as_array().unwrap().iter().find(|p| p["key"] == key).unwrap()
}

/// Makes `app` a new browser (no cookies) and returns the one it had, to put back afterwards.
pub fn as_another_visitor(app: &mut TestApp) -> reqwest::Client {
    std::mem::replace(&mut app.client, crate::helpers::client())
}
