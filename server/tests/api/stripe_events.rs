//! Realistic Stripe events for the tests, built from Stripe's own sample objects (a subset of
//! Stripe's OpenAPI `fixtures3.json`, kept in `tests/fixtures/stripe_samples.json` so the repository
//! tests on its own) and signed with Stripe's official Python SDK.

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::OnceLock,
};

use serde_json::Value;

fn fixtures() -> &'static Value {
    static FIXTURES: OnceLock<Value> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        serde_json::from_str(include_str!("../fixtures/stripe_samples.json")).expect("stripe_samples.json is JSON")
    })
}

/// Stripe's sample object for `resource` (e.g. "customer", "invoice").
pub fn sample(resource: &str) -> Value {
    let object = fixtures()["resources"][resource].clone();
    assert!(object.is_object(), "no Stripe sample for {resource:?} in tests/fixtures/stripe_samples.json");
    object
}

/// Whether the samples hold Stripe's object of kind `resource`.
pub fn has_sample(resource: &str) -> bool {
    fixtures()["resources"][resource].is_object()
}

/// An event of `event_type` about `object`, as Stripe's API version of the fixtures sends it.
pub fn event(id: &str, event_type: &str, created: i64, object: Value) -> String {
    let mut event = sample("event");
    event["id"] = id.into();
    event["type"] = event_type.into();
    event["created"] = created.into();
    event["api_version"] = "2026-09-30.clover".into();
    event["data"] = serde_json::json!({ "object": object });
    event.to_string()
}

/// A `customer.updated` event for customer `customer_id`.
pub fn customer_updated(id: &str, customer_id: &str, created: i64) -> String {
    let mut customer = sample("customer");
    customer["id"] = customer_id.into();
    event(id, "customer.updated", created, customer)
}

/// A `customer.updated` event for customer `customer_id`, whose e-mail is now `email`.
pub fn customer_event(id: &str, customer_id: &str, created: i64, email: &str) -> String {
    let mut object = sample("customer");
    object["id"] = customer_id.into();
    object["email"] = email.into();
    event(id, "customer.updated", created, object)
}

/// `Stripe-Signature` made by Stripe's official Python SDK (`stripe.WebhookSignature`).
pub fn sdk_signature(payload: &str, secret: &str, timestamp: i64) -> String {
    let python = std::env::var("BILLHOOK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, stripe\n\
                  print(stripe.WebhookSignature.generate_signature_header(sys.stdin.read(), sys.argv[1], timestamp=int(sys.argv[2])))";
    let mut child = Command::new(&python)
        .args(["-c", script, secret, &timestamp.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {python}: {e} (scripts/setup installs a Python with stripe)"));
    child.stdin.take().unwrap().write_all(payload.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "Stripe's SDK failed (set BILLHOOK_TEST_PYTHON to a Python with `stripe`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}
