//! What follows a subscription: a renewal whose bank asks the customer to authenticate (the mail,
//! the notice, the page that completes it), a change from monthly to yearly read in its preview
//! first, an add-on that ends with the plan it needs, and custom domains that come with the
//! add-on. Each customer acts only on their own objects.

use std::time::Duration;

use billhook_core::on_db;
use reqwest::StatusCode;
use serde_json::Value;

use super::{as_another_visitor, call, confirm_as_stripe_js, ok, ready};
use crate::{
    helpers::{ADMIN, TestApp},
    on_both_databases,
    sandbox::{Stripe, json, payments::answer_challenge, same_second::settle},
};

on_both_databases!(
    a_renewal_that_needs_the_customer_mails_a_link_and_paying_there_restores_the_plan,
    switching_to_yearly_charges_what_the_preview_said,
    when_basic_ends_the_add_on_that_needs_it_is_cancelled_and_both_are_mailed,
    custom_domains_come_with_the_add_on_and_stay_their_owners,
);

const WITHIN: Duration = Duration::from_secs(60);

/// Subscribes the signed-in customer to `lookup_key`, paying with `card` (answering the bank's
/// check when it asks); returns the subscription's id.
async fn subscribe(app: &TestApp, lookup_key: &str, card: &str) -> String {
    let started = ok(app, "start_subscription", &[("lookup_key", lookup_key)]).await;
    let id = started["subscription_id"].as_str().unwrap().to_owned();
    let intent: Value = confirm_as_stripe_js(app, &started["checkout"], card).await.json().await.unwrap();
    if intent["status"] == "requires_action" {
        answer_challenge(&Stripe::of(app).await, &intent, "complete").await;
    }
    assert_eq!(ok(app, "subscription_outcome", &[("subscription", &id)]).await["status"], "active");
    id
}

/// The mails of `template` in the outbox, oldest first: recipient, subject and body.
async fn mails(app: &TestApp, template: &str) -> Vec<(String, String, String)> {
    on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT recipient, subject, body FROM email_outbox WHERE template = $1 ORDER BY created_at, id")
            .bind(template)
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

/// Moves the signed-in customer's test clock `days` forward.
async fn advance_clock(app: &TestApp, stripe: &Stripe, days: i64) {
    let customer: String = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT customer_id FROM billing_customers ORDER BY created_at DESC LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let clock = json(stripe.get(&format!("/v1/customers/{customer}")).await).await["test_clock"]
        .as_str()
        .expect("a sandbox customer lives on a test clock")
        .to_owned();
    let now =
        json(stripe.get(&format!("/v1/test_helpers/test_clocks/{clock}")).await).await["frozen_time"].as_i64().unwrap();
    let to = (now + days * 86_400).to_string();
    json(stripe.post(&format!("/v1/test_helpers/test_clocks/{clock}/advance"), &[("frozen_time", &to)]).await).await;
}

async fn a_renewal_that_needs_the_customer_mails_a_link_and_paying_there_restores_the_plan(mut app: TestApp) {
    ready(&app).await;
    app.start_workers();
    app.signed_in_customer("renewal@example.com").await;
    let id = subscribe(&app, "basic_monthly", "pm_card_authenticationRequired").await;
    let stripe = Stripe::of(&app).await;
    settle(&app, WITHIN).await;
    assert_eq!(ok(&app, "payments_waiting", &[]).await, Value::Array(vec![]), "the first invoice is paid");

    advance_clock(&app, &stripe, 32).await;
    settle(&app, WITHIN).await;
    let asked = mails(&app, "payment_action_required").await;
    assert_eq!(asked.len(), 1, "one mail for the renewal: {asked:?}");
    let (to, subject, body) = &asked[0];
    assert_eq!((to.as_str(), subject.as_str()), ("renewal@example.com", "Please confirm your payment"));
    let link = body.split_whitespace().find(|w| w.contains("/account/invoices/")).expect("a link in the mail");
    assert!(link.starts_with(&app.address) && link.ends_with("/pay"), "{link}");
    let invoice = link.trim_end_matches("/pay").rsplit('/').next().unwrap().to_owned();

    let waiting = ok(&app, "payments_waiting", &[]).await;
    assert_eq!(waiting[0]["id"], invoice.as_str(), "every account page shows it: {waiting}");
    assert_eq!(waiting[0]["amount_due"], "5.00 EUR");

    let owner = as_another_visitor(&mut app);
    app.signed_in_customer("not-the-payer@example.com").await;
    assert_eq!(call(&app, "invoice_to_pay", &[("id", &invoice)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ok(&app, "payments_waiting", &[]).await, Value::Array(vec![]));
    app.client = owner;

    let to_pay = ok(&app, "invoice_to_pay", &[("id", &invoice)]).await;
    assert_eq!(to_pay["status"], "open");
    let secret = to_pay["step"]["Authenticate"]["client_secret"].as_str().expect("the bank's check").to_owned();
    let intent_id = secret.split("_secret_").next().unwrap();
    let intent = json(stripe.get(&format!("/v1/payment_intents/{intent_id}")).await).await;
    assert_eq!(intent["status"], "requires_action");
    answer_challenge(&stripe, &intent, "complete").await;

    let paid = ok(&app, "invoice_to_pay", &[("id", &invoice)]).await;
    assert_eq!((paid["status"].as_str(), &paid["step"]), (Some("paid"), &Value::String("Done".into())));
    assert_eq!(ok(&app, "payments_waiting", &[]).await, Value::Array(vec![]), "the notice is gone at once");
    let rows = ok(&app, "my_subscriptions", &[]).await;
    assert_eq!((rows[0]["id"].as_str(), rows[0]["status"].as_str()), (Some(id.as_str()), Some("active")));
    settle(&app, WITHIN).await;
    let receipts = mails(&app, "receipt").await;
    assert_eq!(receipts.len(), 2, "the first payment and the renewal: {receipts:?}");
    assert!(receipts.iter().all(|(to, subject, _)| to == "renewal@example.com" && subject == "Receipt for 5.00 EUR"));
    assert_eq!(mails(&app, "payment_action_required").await.len(), 1, "no second mail for a paid invoice");

    // The mirror holds the invoices and what paid them, as Stripe does.
    let (invoices, payments, cards): (Vec<String>, Vec<String>, i64) = on_db!(&app.state.db, pool => {
        let invoices = sqlx::query_scalar("SELECT status FROM stripe_invoices ORDER BY id").fetch_all(pool).await.unwrap();
        let payments =
            sqlx::query_scalar("SELECT status FROM stripe_payment_intents ORDER BY id").fetch_all(pool).await.unwrap();
        let cards = sqlx::query_scalar("SELECT COUNT(*) FROM stripe_payment_methods WHERE status = 'attached'")
            .fetch_one(pool)
            .await
            .unwrap();
        (invoices, payments, cards)
    });
    assert_eq!(invoices, ["paid", "paid"]);
    assert_eq!(payments, ["succeeded", "succeeded"]);
    assert!(cards >= 1, "the card is mirrored");

    // Operators read any customer's billing, and only operators.
    let user_id: i64 = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'renewal@example.com'").fetch_one(pool).await.unwrap()
    });
    let user_id = user_id.to_string();
    assert_eq!(call(&app, "admin_customer_billing", &[("id", &user_id)]).await.0, StatusCode::FORBIDDEN);
    app.client = crate::helpers::client();
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let seen = ok(&app, "admin_customer_billing", &[("id", &user_id)]).await;
    assert_eq!(seen["email"], "renewal@example.com");
    assert_eq!(seen["subscriptions"][0]["status"], "active");
    assert_eq!(seen["invoices"].as_array().unwrap().len(), 2, "{seen}");
    assert_eq!(seen["card"]["last4"], "3184");
    assert_eq!(call(&app, "admin_customer_billing", &[("id", "987654")]).await.0, StatusCode::NOT_FOUND);
}

async fn switching_to_yearly_charges_what_the_preview_said(mut app: TestApp) {
    ready(&app).await;
    app.signed_in_customer("yearly@example.com").await;
    let id = subscribe(&app, "basic_monthly", "pm_card_visa").await;
    let rows = ok(&app, "my_subscriptions", &[]).await;
    assert_eq!(rows[0]["other_prices"][0], serde_json::json!(["basic_yearly", "50.00 EUR yearly"]));

    let preview = ok(&app, "plan_change_preview", &[("subscription", &id), ("price", "basic_yearly")]).await;
    assert_eq!(preview["charged_now"], true, "a new interval is charged at once: {preview}");
    let lines = preview["lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l[1].as_str().unwrap().starts_with('-')), "the unused month is credited: {preview}");
    assert!(lines.iter().any(|l| l[1] == "50.00 EUR"), "the year is charged: {preview}");
    let total = preview["total"].as_str().unwrap().to_owned();
    let date = preview["proration_date"].to_string();

    let owner = as_another_visitor(&mut app);
    app.signed_in_customer("not-yearly@example.com").await;
    let form = [("subscription", id.as_str()), ("price", "basic_yearly"), ("proration_date", date.as_str())];
    assert_eq!(call(&app, "plan_change_preview", &form[..2]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, "change_plan", &form).await.0, StatusCode::NOT_FOUND);
    app.client = owner;

    let stale = (preview["proration_date"].as_i64().unwrap() - 7200).to_string();
    let (status, _) = call(&app, "change_plan", &[form[0], form[1], ("proration_date", &stale)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "an old preview's amounts are not charged");
    let (status, _) = call(&app, "change_plan", &[form[0], ("price", "ssl_monthly"), form[2]]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "another type's price is not a plan change");
    let (status, _) = call(&app, "change_plan", &[form[0], ("price", "basic_monthly"), form[2]]).await;
    assert_eq!(status, StatusCode::CONFLICT, "the price held already");

    ok(&app, "change_plan", &form).await;
    let rows = ok(&app, "my_subscriptions", &[]).await;
    assert_eq!(
        (rows[0]["price"].as_str(), rows[0]["status"].as_str()),
        (Some("50.00 EUR yearly"), Some("active")),
        "{rows}"
    );
    let invoices = ok(&app, "my_invoices", &[]).await;
    assert_eq!(
        (invoices[0]["total"].as_str(), invoices[0]["status"].as_str()),
        (Some(total.as_str()), Some("paid")),
        "charged what the preview said: {invoices}"
    );
    assert_eq!(rows[0]["other_prices"][0][0], "basic_monthly");
}

async fn when_basic_ends_the_add_on_that_needs_it_is_cancelled_and_both_are_mailed(app: TestApp) {
    ready(&app).await;
    app.start_workers();
    app.signed_in_customer("addon@example.com").await;
    let basic = subscribe(&app, "basic_monthly", "pm_card_visa").await;
    let ssl = subscribe(&app, "ssl_monthly", "pm_card_visa").await;
    settle(&app, WITHIN).await;

    // An operator cancels Basic at Stripe.
    let stripe = Stripe::of(&app).await;
    let cancelled = stripe
        .http
        .delete(format!("{}/v1/subscriptions/{basic}", stripe.base))
        .bearer_auth(&stripe.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    settle(&app, WITHIN).await;
    let add_on = json(stripe.get(&format!("/v1/subscriptions/{ssl}")).await).await;
    assert_eq!(add_on["status"], "canceled", "the add-on ended with Basic");
    let statuses: Vec<String> = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT status FROM stripe_subscriptions ORDER BY id").fetch_all(pool).await.unwrap()
    });
    assert_eq!(statuses, ["canceled", "canceled"]);
    // The add-on's cancellation reaches Billhook as a webhook of its own after Basic's: its mail
    // may still be on its way when everything looked settled a moment ago.
    let mut subjects: Vec<String> = app
        .wait_for("both cancellation mails", WITHIN, || async {
            let subjects: Vec<String> =
                mails(&app, "subscription_cancelled").await.into_iter().map(|(_, subject, _)| subject).collect();
            (subjects.len() >= 2).then_some(subjects)
        })
        .await;
    subjects.sort();
    assert_eq!(
        subjects,
        ["Your Basic subscription is cancelled", "Your SSL for custom domains subscription is cancelled"]
    );
}

async fn custom_domains_come_with_the_add_on_and_stay_their_owners(mut app: TestApp) {
    ready(&app).await;
    app.signed_in_customer("domains@example.com").await;
    let (status, refused) = call(&app, "add_domain", &[("hostname", "shop.example.com")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(ok(&app, "my_domains", &[]).await["needs"], "SSL for custom domains");

    subscribe(&app, "basic_monthly", "pm_card_visa").await;
    subscribe(&app, "ssl_monthly", "pm_card_visa").await;
    ok(&app, "add_domain", &[("hostname", "shop.example.com")]).await;
    let (status, _) = call(&app, "add_domain", &[("hostname", "not a domain")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let domains = ok(&app, "my_domains", &[]).await;
    assert_eq!(domains["needs"], Value::Null);
    assert_eq!(domains["list"][0]["hostname"], "shop.example.com");
    assert_eq!(domains["list"][0]["status"], "pending", "its certificate is queued");
    let id = domains["list"][0]["id"].as_str().unwrap().to_owned();

    let owner = as_another_visitor(&mut app);
    app.signed_in_customer("domain-thief@example.com").await;
    assert_eq!(call(&app, "remove_domain", &[("id", &id)]).await.0, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "add_domain", &[("hostname", "thief.example.com")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "no add-on, no domains");
    app.client = owner;
    assert_eq!(ok(&app, "my_domains", &[]).await["list"].as_array().unwrap().len(), 1, "still there");

    ok(&app, "remove_domain", &[("id", &id)]).await;
    assert_eq!(ok(&app, "my_domains", &[]).await["list"], Value::Array(vec![]));
}
