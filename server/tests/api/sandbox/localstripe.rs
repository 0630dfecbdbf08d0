//! The cross-check: the calls localstripe (PyPI `localstripe`, an independent fake Stripe by an
//! outside author, started here as a separate process, never vendored) also supports - customers,
//! payment methods, setup intents, signed webhooks - run against it and against the sandbox, and
//! every field both return is compared. Ids are compared by role (the customer, the card), and
//! the few fields where localstripe answers in its older API shape are named below with the
//! reason; everything else must be equal.
//!
//! localstripe's own signed webhooks go to Billhook's real endpoint too: they must verify and be
//! stored, and their envelope must have the sandbox's fields.

use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    time::Duration,
};

use billhook_core::on_db;
use reqwest::StatusCode;
use serde_json::Value;

use super::{Stripe, json};
use crate::{
    helpers::{TestApp, WEBHOOK_SECRETS, free_port, wait_for_listener},
    on_both_databases,
};

on_both_databases!(localstripe_and_the_sandbox_answer_the_same_calls_with_the_same_fields);

/// A localstripe process on a free port, stopped when dropped.
struct LocalStripe {
    child: Child,
    base: String,
}

impl LocalStripe {
    fn start() -> Self {
        let python = std::env::var("BILLHOOK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = free_port();
        let mut child = Command::new(&python)
            .args(["-m", "localstripe", "--from-scratch", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting localstripe with {python} ({e}); run scripts/setup"));
        wait_for_listener(&mut child, port, "localstripe (run scripts/setup to install it)");
        Self { child, base: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Stripe-like API: its base and secret key.
struct Target<'a> {
    name: &'static str,
    base: &'a str,
    secret: &'a str,
    http: reqwest::Client,
}

impl Target<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(self.secret);
        if method == reqwest::Method::POST {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {path}: not JSON ({e}): {text}", self.name));
        (status, body)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.call(reqwest::Method::POST, path, form).await;
        assert_eq!(status, StatusCode::OK, "{}: POST {path}: {body}", self.name);
        body
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{}: GET {path}: {body}", self.name);
        body
    }
}

/// The answers of one run of the scenario, by step, with the ids it made (id -> role).
struct Run {
    answers: Vec<(&'static str, Value)>,
    roles: BTreeMap<String, &'static str>,
    customer: String,
}

/// The same calls, in the same order, against one target.
async fn scenario(target: &Target<'_>, user_id: i64) -> Run {
    let mut answers = Vec::new();
    let mut roles = BTreeMap::new();
    let user_id = user_id.to_string();
    let customer = target
        .post(
            "/v1/customers",
            &[("email", "cross@example.com"), ("name", "Ada Lovelace"), ("metadata[billhook_user_id]", &user_id)],
        )
        .await;
    let id = customer["id"].as_str().unwrap().to_owned();
    roles.insert(id.clone(), "$customer");
    answers.push(("customer created", customer));
    answers.push((
        "customer updated",
        target
            .post(&format!("/v1/customers/{id}"), &[("email", "cross.new@example.com"), ("metadata[plan]", "basic")])
            .await,
    ));
    answers.push(("customer retrieved", target.get(&format!("/v1/customers/{id}")).await));
    answers.push(("customers listed", target.get("/v1/customers?limit=1").await));

    let card = [
        ("type", "card"),
        ("card[number]", "4242424242424242"),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2031"),
        ("card[cvc]", "123"),
    ];
    let method = target.post("/v1/payment_methods", &card).await;
    let pm = method["id"].as_str().unwrap().to_owned();
    roles.insert(pm.clone(), "$card");
    answers.push(("payment method created", method));
    answers.push((
        "payment method attached",
        target.post(&format!("/v1/payment_methods/{pm}/attach"), &[("customer", &id)]).await,
    ));
    answers.push(("payment methods listed", target.get(&format!("/v1/payment_methods?customer={id}&type=card")).await));
    answers.push((
        "customer's default card set",
        target.post(&format!("/v1/customers/{id}"), &[("invoice_settings[default_payment_method]", &pm)]).await,
    ));

    let intent = target
        .post("/v1/setup_intents", &[("customer", &id), ("payment_method_types[]", "card"), ("usage", "off_session")])
        .await;
    let seti = intent["id"].as_str().unwrap().to_owned();
    roles.insert(seti.clone(), "$setup_intent");
    if let Some(secret) = intent["client_secret"].as_str() {
        roles.insert(secret.to_owned(), "$setup_intent_secret");
    }
    answers.push(("setup intent created", intent));
    answers.push((
        "setup intent confirmed",
        target.post(&format!("/v1/setup_intents/{seti}/confirm"), &[("payment_method", &pm)]).await,
    ));
    answers.push(("setup intent retrieved", target.get(&format!("/v1/setup_intents/{seti}")).await));

    let (status, missing) = target.call(reqwest::Method::GET, "/v1/customers/cus_missing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{}", target.name);
    answers.push(("unknown customer", missing));
    let (status, unknown) = target.call(reqwest::Method::POST, "/v1/customers", &[("bogus", "1")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", target.name);
    answers.push(("unknown parameter", unknown));
    Run { answers, roles, customer: id }
}

/// Fields whose values legitimately differ between the two, with the reason.
const VOLATILE: &[(&str, &str)] = &[
    ("id", "made by each server"),
    ("created", "each server's clock"),
    ("fingerprint", "derived from the card by each server's own secret"),
    ("url", "lists name their own path"),
    ("message", "error wording is each server's own (the type is compared)"),
    // localstripe answers in its older shape (../shared/design/stripe.md, "Working offline"):
    ("currency", "localstripe gives new customers a default currency; Stripe leaves it null until the first charge"),
    ("country", "localstripe says FR for its test cards; Stripe's 4242 card is US"),
    ("invoice_prefix", "random per customer"),
    ("api_version", "localstripe renders events in API 2017-08-15; the sandbox in the version async-stripe pins"),
    ("preferred_locales", "Stripe answers [] for a customer without locales; localstripe answers null"),
];

/// `value` with every id the run made replaced by its role.
fn by_role(value: &Value, roles: &BTreeMap<String, &'static str>) -> Value {
    match value {
        Value::String(s) => roles.get(s).map_or_else(|| value.clone(), |role| Value::String((*role).to_owned())),
        Value::Array(items) => Value::Array(items.iter().map(|v| by_role(v, roles)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), by_role(v, roles))).collect()),
        other => other.clone(),
    }
}

/// Every field both answers have, compared; returns the differences (`path: ours vs theirs`).
fn differences(path: &str, ours: &Value, theirs: &Value, found: &mut Vec<String>, compared: &mut usize) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let Some(other) = b.get(key) else { continue };
                if VOLATILE.iter().any(|(field, _)| field == key) {
                    continue;
                }
                differences(&format!("{path}.{key}"), value, other, found, compared);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, found, compared);
            }
        }
        (a, b) => {
            *compared += 1;
            if a != b {
                found.push(format!("{path}: sandbox {a} vs localstripe {b}"));
            }
        }
    }
}

async fn localstripe_and_the_sandbox_answer_the_same_calls_with_the_same_fields(app: TestApp) {
    let user = app.state.accounts.sign_up("cross@example.com", "customer password".into(), "127.0.0.1").await.unwrap();
    let localstripe = LocalStripe::start();
    let http = reqwest::Client::new();
    // localstripe signs its events for Billhook's endpoint with a secret Billhook accepts.
    let webhook = http
        .post(format!("{}/_config/webhooks/billhook", localstripe.base))
        .form(&[("url", app.url("/webhooks/stripe").as_str()), ("secret", WEBHOOK_SECRETS[1])])
        .send()
        .await
        .unwrap();
    assert!(webhook.status().is_success(), "{}", webhook.text().await.unwrap());

    let sandbox = Stripe::of(&app).await;
    let ours = Target { name: "sandbox", base: &sandbox.base, secret: &sandbox.secret, http: http.clone() };
    let theirs = Target { name: "localstripe", base: &localstripe.base, secret: "sk_test_crosscheck", http };
    let (ours, theirs) = (scenario(&ours, user.id).await, scenario(&theirs, user.id).await);

    let (mut found, mut compared) = (Vec::new(), 0);
    for ((step, a), (_, b)) in ours.answers.iter().zip(&theirs.answers) {
        differences(step, &by_role(a, &ours.roles), &by_role(b, &theirs.roles), &mut found, &mut compared);
    }
    assert!(found.is_empty(), "the sandbox and localstripe differ:\n{}", found.join("\n"));
    assert!(compared >= 60, "only {compared} fields in common: the comparison would prove little");

    // localstripe's own signed deliveries pass Billhook's verification and are stored; the
    // envelope of its customer.created has every field the sandbox's has in common with it.
    let stored: String = app
        .wait_for("localstripe's customer.created stored by the webhook endpoint", Duration::from_secs(20), || async {
            on_db!(&app.state.db, pool => {
                sqlx::query_scalar::<_, String>(
                    "SELECT payload FROM webhook_events WHERE object_id = $1 AND event_type = 'customer.created'",
                )
                .bind(&theirs.customer)
                .fetch_optional(pool)
                .await
                .unwrap()
            })
        })
        .await;
    let their_event: Value = serde_json::from_str(&stored).unwrap();
    let our_events = json(sandbox.get("/v1/events?type=customer.created").await).await;
    let our_event = our_events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["object"]["id"] == ours.customer.as_str())
        .unwrap()
        .clone();
    let (mut found, mut compared) = (Vec::new(), 0);
    let envelope = |event: &Value, roles| {
        let mut event = by_role(event, roles);
        // The objects were compared above; here the envelope.
        event["data"]["object"] = Value::Null;
        event
    };
    differences(
        "event",
        &envelope(&our_event, &ours.roles),
        &envelope(&their_event, &theirs.roles),
        &mut found,
        &mut compared,
    );
    assert!(found.is_empty(), "the events differ:\n{}", found.join("\n"));
    for field in ["id", "object", "type", "created", "data", "livemode"] {
        assert!(our_event.get(field).is_some() && their_event.get(field).is_some(), "both events have {field}");
    }
}
