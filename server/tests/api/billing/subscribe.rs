//! Subscribing as a customer does in the browser, through the server functions the pages call:
//! the plan is started `default_incomplete`, its first invoice paid with the publishable key and
//! the client secret (as Stripe.js pays it), and the result read from Stripe. Each customer acts
//! only on their own subscriptions.

use billhook_core::on_db;
use reqwest::StatusCode;
use serde_json::Value;

use super::{call, confirm_as_stripe_js, ok, plan, ready};
use crate::{
    helpers::TestApp,
    on_both_databases,
    sandbox::{Stripe, json},
};

on_both_databases!(
    a_customer_subscribes_pays_in_the_browser_and_sees_stripes_answer,
    a_declined_card_leaves_nothing_active_and_says_why,
    another_customers_subscription_is_not_found_and_stays_unchanged,
    a_new_card_becomes_the_default_of_the_customer_and_the_subscriptions,
);

async fn a_customer_subscribes_pays_in_the_browser_and_sees_stripes_answer(app: TestApp) {
    ready(&app).await;
    app.signed_in_customer("buyer@example.com").await;
    let plans = ok(&app, "plans", &[]).await;
    assert_eq!(plan(&plans, "basic")["held"], Value::Null);
    assert_eq!(plan(&plans, "ssl")["missing_requirement"], "Basic", "the add-on needs Basic");
    let (status, refused) = call(&app, "start_subscription", &[("lookup_key", "ssl_monthly")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");

    let started = ok(&app, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    let id = started["subscription_id"].as_str().unwrap().to_owned();
    let checkout = &started["checkout"];
    assert_eq!(checkout["script_url"], "/sandbox/stripe/js/v3");
    assert!(checkout["publishable_key"].as_str().unwrap().starts_with("pk_test_"));
    let again = ok(&app, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    assert_eq!(again["subscription_id"], id.as_str(), "an unpaid attempt is offered again, not doubled");
    assert_eq!(plan(&ok(&app, "plans", &[]).await, "basic")["held"], "incomplete");

    assert_eq!(confirm_as_stripe_js(&app, checkout, "pm_card_visa").await.status(), StatusCode::OK);
    let outcome = ok(&app, "subscription_outcome", &[("subscription", &id)]).await;
    assert_eq!((outcome["plan"].as_str(), outcome["status"].as_str()), (Some("Basic"), Some("active")));
    // The read is stored: the mirror knows before any webhook is processed.
    let mirrored: String = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT status FROM stripe_subscriptions WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap()
    });
    assert_eq!(mirrored, "active");

    let (status, _) = call(&app, "start_subscription", &[("lookup_key", "basic_yearly")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "Basic is held already");
    assert_eq!(plan(&ok(&app, "plans", &[]).await, "ssl")["missing_requirement"], Value::Null);

    let invoices = ok(&app, "my_invoices", &[]).await;
    let invoice = &invoices[0];
    assert_eq!((invoice["total"].as_str(), invoice["status"].as_str()), (Some("5.00 EUR"), Some("paid")), "{invoices}");
    assert!(invoice["number"].as_str().is_some_and(|n| !n.is_empty()));
    let hosted = invoice["hosted_invoice_url"].as_str().unwrap();
    assert!(hosted.starts_with(&app.address), "an absolute link to the sandbox's page: {hosted}");
    let page = reqwest::get(hosted).await.unwrap().text().await.unwrap();
    let number = invoice["number"].as_str().unwrap();
    assert!(
        page.contains(&format!("Invoice {number}")) && page.contains("5.00 EUR") && page.contains(">paid<"),
        "{page}"
    );

    let rows = ok(&app, "my_subscriptions", &[]).await;
    let row = &rows[0];
    assert_eq!(
        (row["plan"].as_str(), row["status"].as_str(), row["price"].as_str()),
        (Some("Basic"), Some("active"), Some("5.00 EUR monthly"))
    );
    assert_eq!(row["next_invoice"][0], "5.00 EUR");
    assert_eq!(row["cancel_at_period_end"], false);

    ok(&app, "cancel_at_period_end", &[("subscription", &id), ("cancel", "true")]).await;
    let rows = ok(&app, "my_subscriptions", &[]).await;
    assert_eq!((rows[0]["cancel_at_period_end"].as_bool(), &rows[0]["next_invoice"]), (Some(true), &Value::Null));
    ok(&app, "cancel_at_period_end", &[("subscription", &id), ("cancel", "false")]).await;
    assert_eq!(ok(&app, "my_subscriptions", &[]).await[0]["cancel_at_period_end"], false);
}

async fn a_declined_card_leaves_nothing_active_and_says_why(app: TestApp) {
    ready(&app).await;
    app.signed_in_customer("declined@example.com").await;
    let started = ok(&app, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    let id = started["subscription_id"].as_str().unwrap();
    let answer = confirm_as_stripe_js(&app, &started["checkout"], "pm_card_chargeDeclined").await;
    assert_eq!(answer.status(), StatusCode::PAYMENT_REQUIRED);
    let intent = started["checkout"]["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
    let outcome = ok(&app, "subscription_outcome", &[("subscription", id), ("payment_intent", &intent)]).await;
    assert_eq!(outcome["status"], "incomplete");
    assert_eq!(outcome["payment_error"], "Your card was declined.");

    // Trying again with another card pays the same subscription.
    let again = ok(&app, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    assert_eq!(again["subscription_id"], id);
    assert_eq!(confirm_as_stripe_js(&app, &again["checkout"], "pm_card_visa").await.status(), StatusCode::OK);
    assert_eq!(ok(&app, "subscription_outcome", &[("subscription", id)]).await["status"], "active");
}

async fn another_customers_subscription_is_not_found_and_stays_unchanged(app: TestApp) {
    ready(&app).await;
    app.signed_in_customer("owner@example.com").await;
    let started = ok(&app, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    let id = started["subscription_id"].as_str().unwrap().to_owned();
    confirm_as_stripe_js(&app, &started["checkout"], "pm_card_visa").await;
    let intent = started["checkout"]["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();

    let intruder = app.with_fresh_client();
    intruder.signed_in_customer("intruder@example.com").await;
    let (status, _) = call(&intruder, "subscription_outcome", &[("subscription", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // With a customer of their own, still not found.
    ok(&intruder, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    let (status, _) =
        call(&intruder, "subscription_outcome", &[("subscription", &id), ("payment_intent", &intent)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&intruder, "cancel_at_period_end", &[("subscription", &id), ("cancel", "true")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stripe = Stripe::of(&intruder).await;
    let held = json(stripe.get(&format!("/v1/subscriptions/{id}")).await).await;
    assert_eq!(held["cancel_at_period_end"], false, "nothing changed");
    let (status, _) = call(&intruder.with_fresh_client(), "my_subscriptions", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Saves a new card through a SetupIntent confirmed as Stripe.js confirms it; returns what the
/// page shows afterwards.
async fn replace_card(app: &TestApp, card: &str) -> Value {
    let checkout = ok(app, "start_card_replacement", &[]).await;
    let secret = checkout["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("seti_"), "{secret}");
    let intent = secret.split("_secret_").next().unwrap().to_owned();
    assert_eq!(confirm_as_stripe_js(app, &checkout, card).await.status(), StatusCode::OK);
    ok(app, "my_card", &[("setup_intent", &intent)]).await
}

async fn a_new_card_becomes_the_default_of_the_customer_and_the_subscriptions(app: TestApp) {
    ready(&app).await;
    app.signed_in_customer("cards@example.com").await;
    assert_eq!(ok(&app, "my_card", &[]).await, Value::Null, "no card yet");
    let started = ok(&app, "start_subscription", &[("lookup_key", "basic_monthly")]).await;
    confirm_as_stripe_js(&app, &started["checkout"], "pm_card_visa").await;
    let id = started["subscription_id"].as_str().unwrap();
    let first = ok(&app, "my_card", &[]).await;
    assert_eq!(
        (first["brand"].as_str(), first["last4"].as_str()),
        (Some("visa"), Some("4242")),
        "kept on subscription"
    );

    let card = replace_card(&app, "pm_card_mastercard").await;
    assert_eq!(card["last4"], "4444");
    let stripe = Stripe::of(&app).await;
    let subscription = json(stripe.get(&format!("/v1/subscriptions/{id}?expand[]=default_payment_method")).await).await;
    assert_eq!(subscription["default_payment_method"]["card"]["last4"], "4444", "the subscription renews with it");
    assert_eq!(ok(&app, "my_card", &[]).await["last4"], "4444");
    // Replaced again at once (within the same minute): a SetupIntent of its own, not the one used.
    let again = replace_card(&app, "pm_card_visa").await;
    assert_eq!(again["last4"], "4242");
    let card = replace_card(&app, "pm_card_mastercard").await;
    assert_eq!(card["last4"], "4444");

    // Another account's SetupIntent, even one that succeeded, is not found and changes nothing.
    app.log_out().await;
    app.signed_in_customer("other-card@example.com").await;
    let theirs = replace_card(&app, "pm_card_visa").await;
    assert_eq!(theirs["last4"], "4242");
    let foreign = ok(&app, "start_card_replacement", &[]).await;
    let seti = foreign["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
    app.log_out().await;
    assert_eq!(app.log_in("cards@example.com", "customer password").await.status(), StatusCode::OK);
    let (status, _) = call(&app, "my_card", &[("setup_intent", &seti)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ok(&app, "my_card", &[]).await["last4"], "4444", "unchanged");
    let (status, _) = call(&app.with_fresh_client(), "my_card", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
