//! The offline Stripe sandbox at `/sandbox/stripe`: its API (`api.rs`) and its webhook
//! deliveries to Billhook's own endpoint (`delivery.rs`), and what pages show of it (`pages.rs`).

mod api;
mod changes;
mod delivery;
mod localstripe;
mod pages;
pub mod payments;
mod reconcile;
mod renewals;
pub mod same_second;
mod shuffled;
mod subscriptions;

use billhook_sandbox::Sandbox;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::{helpers::TestApp, stripe_events::sample};

/// The sandbox as a client sees it: its base URL and secret key.
pub struct Stripe {
    pub base: String,
    pub secret: String,
    pub http: reqwest::Client,
}

impl Stripe {
    pub async fn of(app: &TestApp) -> Self {
        // The key pair is kept in the database: opening the sandbox again reads the same one.
        let sandbox = Sandbox::open(app.state.db.clone(), None).await.unwrap();
        Self { base: app.url("/sandbox/stripe"), secret: sandbox.keys().secret.clone(), http: reqwest::Client::new() }
    }

    pub fn client(&self) -> stripe::Client {
        // async-stripe appends `v1/...` to the base as written, so a base with a path ends in `/`.
        stripe::ClientBuilder::new(&self.secret).url(format!("{}/", self.base)).build().unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.secret).form(form).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.secret).send().await.unwrap()
    }

    /// A product "Basic" with one monthly EUR price of `amount` cents; returns the price's id.
    pub async fn monthly_price(&self, amount: &str) -> String {
        let product = json(self.post("/v1/products", &[("name", "Basic")]).await).await;
        let form = [
            ("product", product["id"].as_str().unwrap()),
            ("currency", "eur"),
            ("unit_amount", amount),
            ("recurring[interval]", "month"),
        ];
        json(self.post("/v1/prices", &form).await).await["id"].as_str().unwrap().to_owned()
    }

    /// Attaches a card made from Stripe's test id `card` (`pm_card_visa`) to `customer` and makes
    /// it the customer's default.
    pub async fn give_default_card(&self, customer: &str, card: &str) {
        let method =
            json(self.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", customer)]).await).await;
        let method = method["id"].as_str().unwrap();
        json(
            self.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", method)])
                .await,
        )
        .await;
    }
}

/// The body of a 200 answer (any other status fails the test, showing the body), every Stripe
/// object in it checked by [`conforms_to_stripe`].
pub async fn json(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let body = serde_json::from_str(&text).unwrap();
    conforms_to_stripe(&body);
    body
}

/// Every Stripe object in `value`, at any depth (list items, expansions, an event's object):
/// read with async-stripe's type for its kind, as billing reads it, and holding every field of
/// Stripe's published sample of that kind. Deleted objects are stubs in Stripe too.
pub fn conforms_to_stripe(value: &Value) {
    match value {
        Value::Object(map) => {
            let deleted = map.get("deleted") == Some(&Value::Bool(true));
            if let Some(kind) = map.get("object").and_then(Value::as_str).filter(|_| !deleted) {
                if crate::stripe_events::has_sample(kind) {
                    has_every_field_of_stripes_sample(kind, value);
                }
                read_as_async_stripe_does(kind, value);
            }
            map.values().for_each(conforms_to_stripe);
        }
        Value::Array(items) => items.iter().for_each(conforms_to_stripe),
        _ => {}
    }
}

/// Parses `object` with async-stripe's type for `kind` (the kinds billing reads).
fn read_as_async_stripe_does(kind: &str, object: &Value) {
    use stripe_shared as s;
    match kind {
        "customer" => drop(typed::<s::Customer>(object)),
        "product" => drop(typed::<s::Product>(object)),
        "price" => drop(typed::<s::Price>(object)),
        "payment_method" => drop(typed::<s::PaymentMethod>(object)),
        "payment_intent" => drop(typed::<s::PaymentIntent>(object)),
        "setup_intent" => drop(typed::<s::SetupIntent>(object)),
        "subscription" => drop(typed::<s::Subscription>(object)),
        "subscription_item" => drop(typed::<s::SubscriptionItem>(object)),
        "invoice" => drop(typed::<s::Invoice>(object)),
        "line_item" => drop(typed::<s::InvoiceLineItem>(object)),
        "test_helpers.test_clock" => drop(typed::<s::TestHelpersTestClock>(object)),
        "event" => drop(typed::<s::Event>(object)),
        _ => {}
    }
}

/// Reads `object` with async-stripe's type for it, as the billing code will.
pub fn typed<T: miniserde::Deserialize>(object: &Value) -> T {
    miniserde::json::from_str(&object.to_string()).unwrap_or_else(|e| panic!("async-stripe cannot read {object}: {e}"))
}

/// Every field of Stripe's published sample of `resource` is in `object`.
pub fn has_every_field_of_stripes_sample(resource: &str, object: &Value) {
    for field in sample(resource).as_object().unwrap().keys() {
        assert!(object.get(field).is_some(), "the sandbox's {resource} lacks {field:?}: {object}");
    }
}
