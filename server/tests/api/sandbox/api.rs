//! The sandbox's API, driven as Stripe's own clients drive Stripe: async-stripe's typed requests
//! and types (the ones billing uses), and plain form posts whose answers are read with
//! async-stripe's types and held against Stripe's published samples.

use billhook_core::stripe_api::StripeApi;
use reqwest::StatusCode;
use serde_json::Value;
use stripe_core::customer::{CreateCustomer, ListCustomer, RetrieveCustomer, RetrieveCustomerReturned, UpdateCustomer};
use stripe_shared::{Customer, Price, Product};

use super::{Stripe, has_every_field_of_stripes_sample, json, typed};
use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    stripes_own_client_creates_finds_and_updates_customers,
    products_and_prices_have_stripes_shape_and_a_lookup_key_moves_only_when_asked,
    lists_page_newest_first_both_ways,
    an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters,
    concurrent_requests_with_one_idempotency_key_run_once,
    bad_keys_unknown_urls_and_bad_parameters_get_stripes_errors,
    every_change_is_an_event_that_reconciliation_can_list,
);

/// Stripe's error as `(type, code, param)`.
type ErrorParts<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

fn error_of(body: &Value) -> ErrorParts<'_> {
    let error = &body["error"];
    (error["type"].as_str().unwrap(), error["code"].as_str(), error["param"].as_str())
}

async fn stripes_own_client_creates_finds_and_updates_customers(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let client = stripe.client();
    let created: Customer = CreateCustomer::new()
        .email("ada@example.com")
        .name("Ada Lovelace")
        .metadata([("billhook_user_id".to_owned(), "7".to_owned())])
        .send(&client)
        .await
        .unwrap();
    assert!(created.id.as_str().starts_with("cus_"));
    assert_eq!((created.email.as_deref(), created.name.as_deref()), (Some("ada@example.com"), Some("Ada Lovelace")));
    assert_eq!(created.metadata.as_ref().unwrap()["billhook_user_id"], "7");
    has_every_field_of_stripes_sample(
        "customer",
        &json(stripe.get(&format!("/v1/customers/{}", created.id)).await).await,
    );

    let updated = UpdateCustomer::new(created.id.clone())
        .metadata([("plan".to_owned(), "basic".to_owned())])
        .name("Ada King")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ada King"));
    let metadata = updated.metadata.unwrap();
    assert_eq!((metadata["billhook_user_id"].as_str(), metadata["plan"].as_str()), ("7", "basic"), "metadata merges");

    let RetrieveCustomerReturned::Customer(found) =
        RetrieveCustomer::new(created.id.clone()).send(&client).await.unwrap()
    else {
        panic!("the customer was not deleted");
    };
    assert_eq!(found.name.as_deref(), Some("Ada King"));
    CreateCustomer::new().email("someone@example.com").send(&client).await.unwrap();
    let listed = ListCustomer::new().email("ada@example.com").send(&client).await.unwrap();
    assert_eq!(listed.data.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [created.id.as_str()]);
}

async fn products_and_prices_have_stripes_shape_and_a_lookup_key_moves_only_when_asked(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let product = json(stripe.post("/v1/products", &[("name", "Basic plan"), ("metadata[tier]", "basic")]).await).await;
    has_every_field_of_stripes_sample("product", &product);
    let read: Product = typed(&product);
    assert_eq!((read.name.as_str(), read.active), ("Basic plan", true));

    let form = |amount: &'static str, key: &'static str| {
        vec![
            ("product", product["id"].as_str().unwrap().to_owned()),
            ("currency", "eur".to_owned()),
            ("unit_amount", amount.to_owned()),
            ("recurring[interval]", "month".to_owned()),
            ("lookup_key", key.to_owned()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let stripe = &stripe;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            stripe.post("/v1/prices", &pairs).await
        }
    };
    let first = json(post(form("500", "basic_monthly")).await).await;
    has_every_field_of_stripes_sample("price", &first);
    let price: Price = typed(&first);
    assert_eq!((price.unit_amount, price.currency.to_string().as_str()), (Some(500), "eur"));
    assert_eq!(price.recurring.as_ref().map(|r| r.interval.as_str()), Some("month"));

    let taken = post(form("600", "basic_monthly")).await;
    assert_eq!(taken.status(), StatusCode::BAD_REQUEST);
    let body: Value = taken.json().await.unwrap();
    assert_eq!(error_of(&body), ("invalid_request_error", Some("parameter_invalid"), Some("lookup_key")));

    let mut moving = form("600", "basic_monthly");
    moving.push(("transfer_lookup_key", "true".to_owned()));
    let second = json(post(moving).await).await;
    let by_key = json(stripe.get("/v1/prices?lookup_keys[]=basic_monthly&expand[]=data.product").await).await;
    assert_eq!(by_key["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_key["data"][0]["id"], second["id"], "the key moved to the new price");
    assert_eq!(by_key["data"][0]["product"]["name"], "Basic plan", "expand[] replaced the id by the product");
    let old = json(stripe.get(&format!("/v1/prices/{}", first["id"].as_str().unwrap())).await).await;
    assert_eq!(old["lookup_key"], Value::Null);
}

async fn lists_page_newest_first_both_ways(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let customer = json(stripe.post("/v1/customers", &[("email", &format!("c{n}@example.com"))]).await).await;
        ids.push(customer["id"].as_str().unwrap().to_owned());
    }
    ids.reverse(); // newest first
    let stripe = &stripe;
    let page = |query: String| async move {
        let list = json(stripe.get(&format!("/v1/customers?{query}")).await).await;
        let ids: Vec<String> =
            list["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        (ids, list["has_more"].as_bool().unwrap())
    };
    assert_eq!(page("limit=2".into()).await, (ids[0..2].to_vec(), true));
    assert_eq!(page(format!("limit=2&starting_after={}", ids[1])).await, (ids[2..4].to_vec(), true));
    assert_eq!(page(format!("limit=2&starting_after={}", ids[3])).await, (ids[4..5].to_vec(), false));
    assert_eq!(page(format!("limit=2&ending_before={}", ids[4])).await, (ids[2..4].to_vec(), true));
    let unknown = stripe.get("/v1/customers?starting_after=cus_nope").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let send = |email: &'static str| {
        stripe
            .http
            .post(format!("{}/v1/customers", stripe.base))
            .bearer_auth(&stripe.secret)
            .header("Idempotency-Key", "sign-up-42")
            .form(&[("email", email)])
            .send()
    };
    let first = send("once@example.com").await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json(first).await;
    let again = send("once@example.com").await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(json(again).await, first, "the first answer, byte for byte");

    let other = send("other@example.com").await.unwrap();
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    let body: Value = other.json().await.unwrap();
    assert_eq!(error_of(&body).0, "idempotency_error");
    let all = json(stripe.get("/v1/customers").await).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "one customer, however often the request came");
}

/// Stripe runs one request per key at a time: the others get 409 `idempotency_key_in_use` (or,
/// once the first has answered, its answer again), so a burst of retries creates one customer.
async fn concurrent_requests_with_one_idempotency_key_run_once(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let send = || {
        stripe
            .http
            .post(format!("{}/v1/customers", stripe.base))
            .bearer_auth(&stripe.secret)
            .header("Idempotency-Key", "double-click")
            .form(&[("email", "burst@example.com")])
            .send()
    };
    let burst = (0..12).map(|_| send());
    let mut created = Vec::new();
    for answer in futures::future::join_all(burst).await {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::OK => created.push(json(answer).await["id"].as_str().unwrap().to_owned()),
            StatusCode::CONFLICT => {
                let body: Value = answer.json().await.unwrap();
                assert_eq!(error_of(&body).1, Some("idempotency_key_in_use"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    created.dedup();
    assert_eq!(created.len(), 1, "every success is the one customer: {created:?}");
    let all = json(stripe.get("/v1/customers").await).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "one customer for a burst of one request");
    let later = send().await.unwrap();
    assert_eq!(json(later).await["id"], created[0].as_str(), "after the burst, the first answer");
}

async fn bad_keys_unknown_urls_and_bad_parameters_get_stripes_errors(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let anonymous = stripe.http.get(format!("{}/v1/customers", stripe.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong =
        stripe.http.get(format!("{}/v1/customers", stripe.base)).bearer_auth("sk_test_guess").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let basic =
        stripe.http.get(format!("{}/v1/customers", stripe.base)).basic_auth(&stripe.secret, Some("")).send().await;
    assert_eq!(basic.unwrap().status(), StatusCode::OK, "curl -u sk_...: works as with Stripe");

    // (path, form to post or None for a GET, status, error)
    type Case<'a> = (&'a str, Option<&'a [(&'a str, &'a str)]>, StatusCode, ErrorParts<'a>);
    let cases: [Case<'_>; 5] = [
        ("/v1/nothing_here", None, StatusCode::NOT_FOUND, ("invalid_request_error", None, None)),
        (
            "/v1/customers",
            Some(&[("colour", "blue")]),
            StatusCode::BAD_REQUEST,
            ("invalid_request_error", Some("parameter_unknown"), Some("colour")),
        ),
        (
            "/v1/customers/cus_missing",
            None,
            StatusCode::NOT_FOUND,
            ("invalid_request_error", Some("resource_missing"), Some("id")),
        ),
        (
            "/v1/prices",
            Some(&[("currency", "eur"), ("product", "prod_x"), ("unit_amount", "5")]),
            StatusCode::NOT_FOUND,
            ("invalid_request_error", Some("resource_missing"), Some("product")),
        ),
        (
            "/v1/customers?limit=1000",
            None,
            StatusCode::BAD_REQUEST,
            ("invalid_request_error", Some("parameter_invalid"), Some("limit")),
        ),
    ];
    for (path, form, status, expected) in cases {
        let response = match form {
            Some(form) => stripe.post(path, form).await,
            None => stripe.get(path).await,
        };
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_of(&body), expected, "{path}: {body}");
    }

    // async-stripe reads the sandbox's errors as Stripe's.
    let error = RetrieveCustomer::new("cus_missing").send(&stripe.client()).await.unwrap_err();
    let stripe::StripeError::Stripe(error, status) = error else { panic!("not an API error: {error:?}") };
    assert_eq!((status, error.param.as_deref()), (404, Some("id")));
}

async fn every_change_is_an_event_that_reconciliation_can_list(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let customer = json(stripe.post("/v1/customers", &[("email", "e@example.com")]).await).await;
    let id = customer["id"].as_str().unwrap();
    json(stripe.post(&format!("/v1/customers/{id}"), &[("name", "Eve")]).await).await;
    json(stripe.post("/v1/products", &[("name", "Add-on")]).await).await;

    let events = json(stripe.get("/v1/events?type=customer.*").await).await;
    let types: Vec<&str> = events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["customer.updated", "customer.created"], "newest first, filtered by type");
    let updated = &events["data"][0];
    has_every_field_of_stripes_sample("event", updated);
    assert_eq!(updated["data"]["object"]["name"], "Eve");
    assert_eq!(updated["data"]["previous_attributes"], serde_json::json!({ "name": null }));

    // The reconciliation job's own client, pointed at the sandbox, reads every event.
    let api = StripeApi::new(&stripe.secret, &stripe.base, std::time::Duration::from_secs(5)).unwrap();
    let page = api.list_events(customer["created"].as_i64().unwrap() - 1, None, 100).await.unwrap();
    assert_eq!(page.data.len(), 3);
    assert!(!page.has_more);
}
