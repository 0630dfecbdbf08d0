//! Subscriptions in the sandbox, as the SCA flow uses them: several items on one subscription,
//! `default_incomplete` until the browser pays `latest_invoice.confirmation_secret` (through 3-D
//! Secure when the card asks), the card kept with `save_default_payment_method=on_subscription`,
//! `allow_incomplete` charging a saved card at once, cancelling - and the result mirrored by
//! Billhook's own pipeline from the sandbox's signed deliveries.

use std::time::Duration;

use billhook_core::on_db;
use reqwest::StatusCode;
use serde_json::Value;
use stripe_shared::{Invoice, Subscription};

use super::{Stripe, has_every_field_of_stripes_sample, json, typed};
use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    an_incomplete_subscription_activates_when_the_browser_pays_its_first_invoice,
    a_3d_secure_card_keeps_the_subscription_incomplete_until_authenticated,
    allow_incomplete_charges_the_saved_card_and_a_declined_one_leaves_it_incomplete,
    a_subscription_cancels_at_period_end_or_now,
);

/// A product with a 5.00 EUR base plan and a 3.00 EUR add-on, monthly; returns the price ids.
async fn catalogue(stripe: &Stripe) -> (String, String) {
    let product = json(stripe.post("/v1/products", &[("name", "Link blog")]).await).await;
    let product = product["id"].as_str().unwrap();
    let price = |amount: &'static str, key: &'static str| async move {
        let form = [
            ("product", product),
            ("currency", "eur"),
            ("unit_amount", amount),
            ("recurring[interval]", "month"),
            ("lookup_key", key),
        ];
        json(stripe.post("/v1/prices", &form).await).await["id"].as_str().unwrap().to_owned()
    };
    (price("500", "basic").await, price("300", "ssl").await)
}

async fn customer(stripe: &Stripe, email: &str) -> String {
    json(stripe.post("/v1/customers", &[("email", email)]).await).await["id"].as_str().unwrap().to_owned()
}

/// `default_incomplete` with the base plan and two add-ons, the invoice's secret expanded.
async fn subscribe(stripe: &Stripe, customer: &str, basic: &str, ssl: &str) -> Value {
    let form = [
        ("customer", customer),
        ("items[0][price]", basic),
        ("items[1][price]", ssl),
        ("items[1][quantity]", "2"),
        ("payment_behavior", "default_incomplete"),
        ("payment_settings[save_default_payment_method]", "on_subscription"),
        ("expand[]", "latest_invoice.confirmation_secret"),
    ];
    json(stripe.post("/v1/subscriptions", &form).await).await
}

/// Confirms the invoice's PaymentIntent as Stripe.js does: publishable key and client secret.
async fn pay_in_browser(app: &TestApp, stripe: &Stripe, client_secret: &str, method: &str) -> Value {
    let publishable =
        billhook_sandbox::Sandbox::open(app.state.db.clone(), None).await.unwrap().keys().publishable.clone();
    let intent = client_secret.split("_secret_").next().unwrap();
    let response = stripe
        .http
        .post(format!("{}/v1/payment_intents/{intent}/confirm", stripe.base))
        .bearer_auth(publishable)
        .form(&[
            ("client_secret", client_secret),
            ("payment_method", method),
            ("return_url", "http://shop.example.test/done"),
        ])
        .send()
        .await
        .unwrap();
    json(response).await
}

async fn subscription(stripe: &Stripe, id: &str) -> Value {
    json(stripe.get(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice")).await).await
}

async fn an_incomplete_subscription_activates_when_the_browser_pays_its_first_invoice(app: TestApp) {
    app.start_workers();
    let stripe = Stripe::of(&app).await;
    let (basic, ssl) = catalogue(&stripe).await;
    let customer = customer(&stripe, "subscriber@example.com").await;
    let created = subscribe(&stripe, &customer, &basic, &ssl).await;
    has_every_field_of_stripes_sample("subscription", &created);
    let read: Subscription = typed(&created);
    assert_eq!(read.status.as_str(), "incomplete");
    let items = &created["items"]["data"];
    assert_eq!(items.as_array().unwrap().len(), 2);
    let (start, end) =
        (items[0]["current_period_start"].as_i64().unwrap(), items[0]["current_period_end"].as_i64().unwrap());
    assert!((28 * 86_400..=31 * 86_400).contains(&(end - start)), "a monthly period: {start}..{end}");

    let invoice = &created["latest_invoice"];
    has_every_field_of_stripes_sample("invoice", invoice);
    let bill: Invoice = typed(invoice);
    assert_eq!(
        (bill.amount_due, bill.status.map(|s| s.as_str().to_owned())),
        (1100, Some("open".to_owned())),
        "5.00 + 2 x 3.00"
    );
    let secret = invoice["confirmation_secret"]["client_secret"].as_str().expect("the confirmation secret, expanded");
    assert!(secret.starts_with("pi_"), "{secret}");
    let plain = json(stripe.get(&format!("/v1/invoices/{}", invoice["id"].as_str().unwrap())).await).await;
    assert!(plain.get("confirmation_secret").is_none(), "only sent when expanded");

    let paid = pay_in_browser(&app, &stripe, secret, "pm_card_visa").await;
    assert_eq!(paid["status"], "succeeded");
    let active = subscription(&stripe, created["id"].as_str().unwrap()).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["default_payment_method"], paid["payment_method"], "the paying card is kept for renewals");
    assert_eq!(active["latest_invoice"]["status"], "paid");
    let cards = json(stripe.get(&format!("/v1/customers/{customer}/payment_methods")).await).await;
    assert_eq!(cards["data"][0]["id"], paid["payment_method"]);

    let updates = json(stripe.get("/v1/events?type=customer.subscription.updated").await).await;
    assert_eq!(updates["data"][0]["data"]["previous_attributes"]["status"], "incomplete");

    // Billhook's pipeline mirrors the subscription from the sandbox's signed deliveries.
    let id = created["id"].as_str().unwrap().to_owned();
    let mirrored: (String, String) = app
        .wait_for("the active subscription mirrored", Duration::from_secs(30), || {
            let (db, id) = (app.state.db.clone(), id.clone());
            async move {
                let row: Option<(String, String)> = on_db!(&db, pool => {
                    sqlx::query_as("SELECT status, price_ids FROM stripe_subscriptions WHERE id = $1").bind(&id).fetch_optional(pool).await.unwrap()
                });
                row.filter(|(status, _)| status == "active")
            }
        })
        .await;
    let prices: Vec<String> = serde_json::from_str(&mirrored.1).unwrap();
    assert_eq!(prices, [basic, ssl]);
}

async fn a_3d_secure_card_keeps_the_subscription_incomplete_until_authenticated(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let (basic, ssl) = catalogue(&stripe).await;
    let customer = customer(&stripe, "careful@example.com").await;
    let created = subscribe(&stripe, &customer, &basic, &ssl).await;
    let secret = created["latest_invoice"]["confirmation_secret"]["client_secret"].as_str().unwrap().to_owned();

    let challenged = pay_in_browser(&app, &stripe, &secret, "pm_card_threeDSecureRequired").await;
    assert_eq!(challenged["status"], "requires_action");
    let id = created["id"].as_str().unwrap();
    assert_eq!(subscription(&stripe, id).await["status"], "incomplete");
    let action = json(stripe.get("/v1/events?type=invoice.payment_action_required").await).await;
    assert_eq!(action["data"].as_array().unwrap().len(), 1);

    let url = challenged["next_action"]["redirect_to_url"]["url"].as_str().unwrap();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answered = no_redirects
        .post(url.split('?').next().unwrap())
        .form(&[("client_secret", secret.as_str()), ("result", "complete")])
        .send()
        .await
        .unwrap();
    let location = answered.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://shop.example.test/done?payment_intent=pi_")
            && location.contains("redirect_status=succeeded")
    );
    assert_eq!(subscription(&stripe, id).await["status"], "active");
}

async fn allow_incomplete_charges_the_saved_card_and_a_declined_one_leaves_it_incomplete(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let (basic, _) = catalogue(&stripe).await;
    for (card, expected) in [("pm_card_visa", "active"), ("pm_card_chargeDeclinedInsufficientFunds", "incomplete")] {
        let customer = customer(&stripe, "saved@example.com").await;
        let method =
            json(stripe.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", &customer)]).await).await;
        let method = method["id"].as_str().unwrap();
        json(
            stripe
                .post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", method)])
                .await,
        )
        .await;
        let form = [("customer", customer.as_str()), ("items[0][price]", basic.as_str())];
        let created = json(stripe.post("/v1/subscriptions", &form).await).await;
        assert_eq!(created["status"], expected, "{card}");
    }
    let failed = json(stripe.get("/v1/events?type=invoice.payment_failed").await).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
}

async fn a_subscription_cancels_at_period_end_or_now(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let (basic, ssl) = catalogue(&stripe).await;
    let customer = customer(&stripe, "leaving@example.com").await;
    let first = subscribe(&stripe, &customer, &basic, &ssl).await;
    let id = first["id"].as_str().unwrap();
    let later = json(stripe.post(&format!("/v1/subscriptions/{id}"), &[("cancel_at_period_end", "true")]).await).await;
    assert_eq!(later["cancel_at_period_end"], true);
    assert_eq!(later["cancel_at"], first["items"]["data"][0]["current_period_end"]);
    let kept = json(stripe.post(&format!("/v1/subscriptions/{id}"), &[("cancel_at_period_end", "false")]).await).await;
    assert_eq!(kept["cancel_at"], Value::Null);

    let now = stripe
        .http
        .delete(format!("{}/v1/subscriptions/{id}", stripe.base))
        .bearer_auth(&stripe.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(json(now).await["status"], "canceled");
    let listed = json(stripe.get(&format!("/v1/subscriptions?customer={customer}")).await).await;
    assert!(listed["data"].as_array().unwrap().is_empty(), "canceled ones are left out by default");
    let all = json(stripe.get(&format!("/v1/subscriptions?customer={customer}&status=all")).await).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    let again = stripe
        .http
        .delete(format!("{}/v1/subscriptions/{id}", stripe.base))
        .bearer_auth(&stripe.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}
