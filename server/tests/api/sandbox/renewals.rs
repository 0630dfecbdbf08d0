//! Twelve months of a test clock's time with each test card: renewals paid off-session, a card
//! that needs the customer (`invoice.payment_action_required`, `past_due`), a card whose charges
//! fail (`invoice.payment_failed`, `past_due`) - each put right by paying the open invoice in the
//! browser - an incomplete subscription expiring after 23 hours, and one ending at period end.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Stripe, json};
use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    twelve_months_of_renewals_with_each_test_card,
    an_unpaid_subscription_expires_and_one_set_to_cancel_ends_at_period_end,
);

const DAY: i64 = 86_400;

struct Shop {
    stripe: Stripe,
    publishable: String,
    price: String,
}

impl Shop {
    async fn open(app: &TestApp) -> Self {
        let stripe = Stripe::of(app).await;
        let publishable =
            billhook_sandbox::Sandbox::open(app.state.db.clone(), None).await.unwrap().keys().publishable.clone();
        let price = stripe.monthly_price("900").await;
        Self { stripe, publishable, price }
    }

    /// A clock at `start`, a customer on it, and an incomplete subscription; returns
    /// (clock, customer, subscription).
    async fn subscribe(&self, start: i64) -> (String, String, Value) {
        let clock =
            json(self.stripe.post("/v1/test_helpers/test_clocks", &[("frozen_time", &start.to_string())]).await).await;
        let clock = clock["id"].as_str().unwrap().to_owned();
        let customer =
            json(self.stripe.post("/v1/customers", &[("email", "renew@example.com"), ("test_clock", &clock)]).await)
                .await;
        let customer = customer["id"].as_str().unwrap().to_owned();
        let form = [
            ("customer", customer.as_str()),
            ("items[0][price]", self.price.as_str()),
            ("payment_behavior", "default_incomplete"),
            ("payment_settings[save_default_payment_method]", "on_subscription"),
            ("expand[]", "latest_invoice.confirmation_secret"),
        ];
        let subscription = json(self.stripe.post("/v1/subscriptions", &form).await).await;
        assert_eq!(
            subscription["items"]["data"][0]["current_period_start"], start,
            "the subscription lives in the clock's time"
        );
        (clock, customer, subscription)
    }

    /// Pays `invoice` in the browser with `card`, passing 3-D Secure when it is asked for.
    async fn pay_in_browser(&self, invoice: &Value, card: &str) -> Value {
        let secret =
            invoice["confirmation_secret"]["client_secret"].as_str().expect("the invoice's confirmation secret");
        let intent = secret.split("_secret_").next().unwrap();
        let response = self
            .stripe
            .http
            .post(format!("{}/v1/payment_intents/{intent}/confirm", self.stripe.base))
            .bearer_auth(&self.publishable)
            .form(&[("client_secret", secret), ("payment_method", card)])
            .send()
            .await
            .unwrap();
        let confirmed = json(response).await;
        if confirmed["status"] != "requires_action" {
            return confirmed;
        }
        let url = confirmed["next_action"]["redirect_to_url"]["url"].as_str().unwrap();
        let answered = self
            .stripe
            .http
            .post(url.split('?').next().unwrap())
            .form(&[("client_secret", secret), ("result", "complete")])
            .send()
            .await;
        assert_eq!(answered.unwrap().status(), StatusCode::OK);
        json(self.stripe.get(&format!("/v1/payment_intents/{intent}")).await).await
    }

    async fn advance(&self, clock: &str, to: i64) {
        let advanced = json(
            self.stripe
                .post(&format!("/v1/test_helpers/test_clocks/{clock}/advance"), &[("frozen_time", &to.to_string())])
                .await,
        )
        .await;
        assert_eq!((advanced["status"].as_str(), advanced["frozen_time"].as_i64()), (Some("ready"), Some(to)));
    }

    async fn subscription(&self, id: &str) -> Value {
        json(self.stripe.get(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice.confirmation_secret")).await)
            .await
    }

    /// The subscription's invoices by status, oldest first.
    async fn invoice_statuses(&self, subscription: &str) -> Vec<String> {
        let list = json(self.stripe.get(&format!("/v1/invoices?subscription={subscription}&limit=100")).await).await;
        let mut statuses: Vec<String> =
            list["data"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap().to_owned()).collect();
        statuses.reverse();
        statuses
    }

    async fn events_of(&self, event_type: &str, subscription: &str) -> usize {
        let events = json(self.stripe.get(&format!("/v1/events?type={event_type}&limit=100")).await).await;
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["data"]["object"]["subscription"] == subscription)
            .count()
    }
}

async fn twelve_months_of_renewals_with_each_test_card(app: TestApp) {
    let shop = Shop::open(&app).await;
    let start = 1_767_225_600; // 2026-01-01 00:00 UTC
    let year_later = start + 365 * DAY + DAY / 2;

    // Cards that renew on their own: paid every month, off-session.
    for card in ["pm_card_visa", "pm_card_threeDSecureRequired"] {
        let (clock, _, subscription) = shop.subscribe(start).await;
        let id = subscription["id"].as_str().unwrap();
        assert_eq!(shop.pay_in_browser(&subscription["latest_invoice"], card).await["status"], "succeeded", "{card}");
        shop.advance(&clock, year_later).await;
        let renewed = shop.subscription(id).await;
        assert_eq!(renewed["status"], "active", "{card}");
        assert_eq!(shop.invoice_statuses(id).await, vec!["paid"; 13], "{card}: the first invoice and twelve renewals");
        assert_eq!(
            renewed["items"]["data"][0]["current_period_start"], 1_798_761_600,
            "{card}: the period begun on 2027-01-01"
        );
    }

    // A card that always needs the customer, and one whose charges fail: past_due at the first
    // renewal, every later invoice open too, until the customer pays in the browser.
    for (card, event) in [
        ("pm_card_authenticationRequired", "invoice.payment_action_required"),
        ("pm_card_chargeCustomerFail", "invoice.payment_failed"),
    ] {
        let (clock, customer, subscription) = shop.subscribe(start).await;
        let id = subscription["id"].as_str().unwrap();
        assert_eq!(shop.pay_in_browser(&subscription["latest_invoice"], "pm_card_visa").await["status"], "succeeded");
        let attached =
            json(shop.stripe.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", &customer)]).await)
                .await;
        json(
            shop.stripe
                .post(
                    &format!("/v1/subscriptions/{id}"),
                    &[("default_payment_method", attached["id"].as_str().unwrap())],
                )
                .await,
        )
        .await;

        shop.advance(&clock, start + 40 * DAY).await;
        let overdue = shop.subscription(id).await;
        assert_eq!(overdue["status"], "past_due", "{card}");
        assert_eq!(shop.events_of(event, id).await, 1, "{card}: {event}");
        assert_eq!(shop.invoice_statuses(id).await, ["paid", "open"], "{card}");

        // Putting it right: the customer pays the open invoice with a working card.
        let latest = &overdue["latest_invoice"];
        assert_eq!(shop.pay_in_browser(latest, "pm_card_visa").await["status"], "succeeded");
        assert_eq!(shop.subscription(id).await["status"], "active", "{card}: paid up again");
        assert_eq!(shop.invoice_statuses(id).await, ["paid", "paid"]);
    }
}

async fn an_unpaid_subscription_expires_and_one_set_to_cancel_ends_at_period_end(app: TestApp) {
    let shop = Shop::open(&app).await;
    let start = 1_767_225_600;
    let (clock, _, unpaid) = shop.subscribe(start).await;
    let id = unpaid["id"].as_str().unwrap();
    shop.advance(&clock, start + 22 * 3600).await;
    assert_eq!(shop.subscription(id).await["status"], "incomplete", "still within 23 hours");
    shop.advance(&clock, start + DAY).await;
    let expired = shop.subscription(id).await;
    assert_eq!(expired["status"], "incomplete_expired");
    assert_eq!(expired["latest_invoice"]["status"], "void");

    let (clock, _, leaving) = shop.subscribe(start).await;
    let id = leaving["id"].as_str().unwrap();
    shop.pay_in_browser(&leaving["latest_invoice"], "pm_card_visa").await;
    json(shop.stripe.post(&format!("/v1/subscriptions/{id}"), &[("cancel_at_period_end", "true")]).await).await;
    shop.advance(&clock, start + 20 * DAY).await;
    assert_eq!(shop.subscription(id).await["status"], "active", "until the period ends");
    shop.advance(&clock, start + 40 * DAY).await;
    let ended = shop.subscription(id).await;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(ended["ended_at"], ended["items"]["data"][0]["current_period_end"]);
    assert_eq!(shop.invoice_statuses(id).await, ["paid"], "no invoice after the end");
}
