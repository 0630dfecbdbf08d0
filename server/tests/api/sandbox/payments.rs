//! Cards, payment intents and setup intents in the sandbox: Stripe's test cards pay, decline or
//! ask for 3-D Secure as in Stripe test mode; the challenge page's answer settles the intent; a
//! card saved with 3-D Secure pays off-session later; a publishable key reaches an intent only
//! with its client secret. Answers are read with async-stripe's types and held against Stripe's
//! samples.

use reqwest::{Response, StatusCode};
use serde_json::Value;
use stripe_shared::{PaymentIntent, PaymentMethod, SetupIntent};

use super::{Stripe, has_every_field_of_stripes_sample, json, typed};
use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    test_cards_pay_decline_or_ask_for_3d_secure_as_in_stripe_test_mode,
    a_card_saved_with_3d_secure_pays_off_session_later,
    a_publishable_key_reaches_an_intent_only_with_its_client_secret,
);

async fn customer(stripe: &Stripe) -> String {
    json(stripe.post("/v1/customers", &[("email", "payer@example.com")]).await).await["id"].as_str().unwrap().to_owned()
}

/// Creates and confirms a 10.00 EUR payment with `method`.
async fn pay(stripe: &Stripe, customer: &str, method: &str, off_session: bool) -> Response {
    let off = if off_session { "true" } else { "false" };
    let form = [
        ("amount", "1000"),
        ("currency", "eur"),
        ("customer", customer),
        ("payment_method", method),
        ("confirm", "true"),
        ("off_session", off),
    ];
    stripe.post("/v1/payment_intents", &form).await
}

async fn card_error(response: Response) -> Value {
    assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "card_error", "{body}");
    body["error"].clone()
}

/// Answers the challenge behind `intent`'s next action.
pub async fn answer_challenge(stripe: &Stripe, intent: &Value, result: &str) -> Response {
    let url = intent["next_action"]["redirect_to_url"]["url"].as_str().expect("a redirect_to_url next action");
    assert!(url.contains("/sandbox/stripe/challenge/"), "{url}");
    let page = stripe.http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Complete authentication") && page.contains("Fail authentication"), "{page}");
    let secret = intent["client_secret"].as_str().unwrap();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    no_redirects
        .post(url.split('?').next().unwrap())
        .form(&[("client_secret", secret), ("result", result)])
        .send()
        .await
        .unwrap()
}

async fn test_cards_pay_decline_or_ask_for_3d_secure_as_in_stripe_test_mode(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let customer = customer(&stripe).await;

    let paid = json(pay(&stripe, &customer, "pm_card_visa", false).await).await;
    has_every_field_of_stripes_sample("payment_intent", &paid);
    let read: PaymentIntent = typed(&paid);
    assert_eq!((read.status.as_str(), read.amount_received), ("succeeded", 1000));
    let method =
        json(stripe.get(&format!("/v1/payment_methods/{}", paid["payment_method"].as_str().unwrap())).await).await;
    has_every_field_of_stripes_sample("payment_method", &method);
    let card: PaymentMethod = typed(&method);
    assert_eq!(card.card.map(|c| c.last4), Some("4242".to_owned()));

    for (method, decline_code) in [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeCustomerFail", "generic_decline"),
    ] {
        let error = card_error(pay(&stripe, &customer, method, false).await).await;
        assert_eq!(
            (error["code"].as_str(), error["decline_code"].as_str()),
            (Some("card_declined"), Some(decline_code)),
            "{method}"
        );
        assert_eq!(
            error["payment_intent"]["status"], "requires_payment_method",
            "{method}: the failed intent comes along"
        );
        assert_eq!(error["payment_intent"]["last_payment_error"]["decline_code"], decline_code);
    }

    let challenged = json(pay(&stripe, &customer, "pm_card_authenticationRequired", false).await).await;
    assert_eq!(challenged["status"], "requires_action");
    let answered = answer_challenge(&stripe, &challenged, "complete").await;
    assert_eq!(answered.status(), StatusCode::OK, "no return_url: the page says so");
    let id = challenged["id"].as_str().unwrap();
    assert_eq!(json(stripe.get(&format!("/v1/payment_intents/{id}")).await).await["status"], "succeeded");

    let refused = json(pay(&stripe, &customer, "pm_card_authenticationRequired", false).await).await;
    answer_challenge(&stripe, &refused, "fail").await;
    let failed = json(stripe.get(&format!("/v1/payment_intents/{}", refused["id"].as_str().unwrap())).await).await;
    assert_eq!(failed["status"], "requires_payment_method");
    assert_eq!(failed["last_payment_error"]["code"], "payment_intent_authentication_failure");

    let off_session = card_error(pay(&stripe, &customer, "pm_card_authenticationRequired", true).await).await;
    assert_eq!(off_session["code"], "authentication_required");

    let events = json(stripe.get("/v1/events?type=payment_intent.*&limit=100").await).await;
    let types: Vec<&str> = events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    for wanted in [
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.requires_action",
    ] {
        assert!(types.contains(&wanted), "{wanted} in {types:?}");
    }
}

async fn a_card_saved_with_3d_secure_pays_off_session_later(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let customer = customer(&stripe).await;
    let form = [
        ("customer", customer.as_str()),
        ("payment_method", "pm_card_threeDSecureRequired"),
        ("usage", "off_session"),
        ("confirm", "true"),
        ("return_url", "http://shop.example.test/billing/done"),
    ];
    let setup = json(stripe.post("/v1/setup_intents", &form).await).await;
    has_every_field_of_stripes_sample("setup_intent", &setup);
    assert_eq!(setup["status"], "requires_action");

    let answered = answer_challenge(&stripe, &setup, "complete").await;
    assert!(answered.status().is_redirection());
    let location = answered.headers()["location"].to_str().unwrap().to_owned();
    let id = setup["id"].as_str().unwrap();
    assert!(location.starts_with("http://shop.example.test/billing/done?"), "{location}");
    assert!(
        location.contains(&format!("setup_intent={id}")) && location.contains("redirect_status=succeeded"),
        "{location}"
    );

    let saved: SetupIntent = typed(&json(stripe.get(&format!("/v1/setup_intents/{id}")).await).await);
    assert_eq!(saved.status.as_str(), "succeeded");
    let method = setup["payment_method"].as_str().unwrap();
    let cards = json(stripe.get(&format!("/v1/customers/{customer}/payment_methods")).await).await;
    assert_eq!(cards["data"][0]["id"], method, "the card is saved to the customer");

    let renewal = json(pay(&stripe, &customer, method, true).await).await;
    assert_eq!(renewal["status"], "succeeded", "authenticated once, charged off-session without the customer");
    let unsaved = card_error(pay(&stripe, &customer, "pm_card_threeDSecureRequired", true).await).await;
    assert_eq!(unsaved["code"], "authentication_required", "a card never authenticated needs the customer");
}

async fn a_publishable_key_reaches_an_intent_only_with_its_client_secret(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let publishable =
        billhook_sandbox::Sandbox::open(app.state.db.clone(), None).await.unwrap().keys().publishable.clone();
    let intent = json(stripe.post("/v1/payment_intents", &[("amount", "500"), ("currency", "eur")]).await).await;
    let (id, secret) = (intent["id"].as_str().unwrap(), intent["client_secret"].as_str().unwrap());
    let as_browser = |method: reqwest::Method, path: String| {
        stripe.http.request(method, format!("{}{path}", stripe.base)).bearer_auth(&publishable)
    };

    let refused = as_browser(reqwest::Method::GET, "/v1/customers".into()).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "a publishable key cannot list customers");
    let no_secret = as_browser(reqwest::Method::GET, format!("/v1/payment_intents/{id}")).send().await.unwrap();
    assert_eq!(no_secret.status(), StatusCode::BAD_REQUEST);
    let wrong = as_browser(reqwest::Method::GET, format!("/v1/payment_intents/{id}?client_secret={id}_secret_guess"))
        .send()
        .await;
    assert_eq!(wrong.unwrap().status(), StatusCode::BAD_REQUEST);
    let seen = json(
        as_browser(reqwest::Method::GET, format!("/v1/payment_intents/{id}?client_secret={secret}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["status"], "requires_payment_method");

    // What the Payment Element does: a card from the typed number, then the confirmation.
    let bad = as_browser(reqwest::Method::POST, "/v1/payment_methods".into())
        .form(&[
            ("type", "card"),
            ("card[number]", "4242424242424241"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "34"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(card_error(bad).await["code"], "incorrect_number");
    let card = json(
        as_browser(reqwest::Method::POST, "/v1/payment_methods".into())
            .form(&[
                ("type", "card"),
                ("card[number]", "4242 4242 4242 4242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "34"),
                ("card[cvc]", "123"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let confirmed = json(
        as_browser(reqwest::Method::POST, format!("/v1/payment_intents/{id}/confirm"))
            .form(&[("client_secret", secret), ("payment_method", card["id"].as_str().unwrap())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded");
}
