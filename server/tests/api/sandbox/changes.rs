//! Changing plans: a new price or quantity on an item, prorated by the day - previewed with
//! `create_preview`, invoiced and charged at once (`always_invoice`) or carried to the next
//! renewal (`create_prorations`) - in a test clock's time, so the days are exact.

use serde_json::Value;

use super::{Stripe, json};
use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(a_plan_change_is_prorated_by_the_day_now_or_at_the_next_renewal);

const JAN_1_2026: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

async fn price(stripe: &Stripe, product: &str, amount: &str) -> String {
    let form = [("product", product), ("currency", "eur"), ("unit_amount", amount), ("recurring[interval]", "month")];
    json(stripe.post("/v1/prices", &form).await).await["id"].as_str().unwrap().to_owned()
}

fn amounts(invoice: &Value) -> Vec<(i64, bool)> {
    invoice["lines"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (l["amount"].as_i64().unwrap(), l["parent"]["subscription_item_details"]["proration"].as_bool().unwrap())
        })
        .collect()
}

async fn a_plan_change_is_prorated_by_the_day_now_or_at_the_next_renewal(app: TestApp) {
    let stripe = Stripe::of(&app).await;
    let product = json(stripe.post("/v1/products", &[("name", "Link blog")]).await).await;
    let product = product["id"].as_str().unwrap();
    let (basic, premium) = (price(&stripe, product, "900").await, price(&stripe, product, "3100").await);
    let clock =
        json(stripe.post("/v1/test_helpers/test_clocks", &[("frozen_time", &JAN_1_2026.to_string())]).await).await;
    let clock = clock["id"].as_str().unwrap();
    let customer =
        json(stripe.post("/v1/customers", &[("email", "upgrade@example.com"), ("test_clock", clock)]).await).await;
    let customer = customer["id"].as_str().unwrap();
    let card = json(stripe.post("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer)]).await).await;
    let card = card["id"].as_str().unwrap();
    json(
        stripe.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", card)]).await,
    )
    .await;
    let subscription =
        json(stripe.post("/v1/subscriptions", &[("customer", customer), ("items[0][price]", &basic)]).await).await;
    assert_eq!(subscription["status"], "active");
    let id = subscription["id"].as_str().unwrap();
    let item = subscription["items"]["data"][0]["id"].as_str().unwrap();

    // Day 15 of 31: 16 days remain. Basic's unused 16/31 of 9.00 is 4.65; premium's is 16.00.
    let stripe = &stripe;
    let advance = |to: i64| async move {
        json(
            stripe
                .post(&format!("/v1/test_helpers/test_clocks/{clock}/advance"), &[("frozen_time", &to.to_string())])
                .await,
        )
        .await
    };
    advance(JAN_1_2026 + 15 * DAY).await;
    let change = [
        ("customer", customer),
        ("subscription", id),
        ("subscription_details[items][0][id]", item),
        ("subscription_details[items][0][price]", premium.as_str()),
        ("subscription_details[proration_behavior]", "always_invoice"),
    ];
    let preview = json(stripe.post("/v1/invoices/create_preview", &change).await).await;
    assert_eq!(amounts(&preview), [(-465, true), (1600, true)]);
    assert_eq!(preview["amount_due"], 1135);

    let form =
        [("items[0][id]", item), ("items[0][price]", premium.as_str()), ("proration_behavior", "always_invoice")];
    let upgraded = json(stripe.post(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice"), &form).await).await;
    assert_eq!(upgraded["items"]["data"][0]["price"]["id"], premium.as_str());
    let invoice = &upgraded["latest_invoice"];
    assert_eq!(
        (invoice["amount_due"].as_i64(), invoice["status"].as_str()),
        (Some(1135), Some("paid")),
        "charged to the saved card now"
    );
    assert_eq!(invoice["billing_reason"], "subscription_update");

    // Day 20: two seats of premium, carried to the renewal: +2 x 31.00 x 11/31 - 31.00 x 11/31.
    advance(JAN_1_2026 + 20 * DAY).await;
    let form = [("items[0][id]", item), ("items[0][quantity]", "2")];
    json(stripe.post(&format!("/v1/subscriptions/{id}"), &form).await).await;
    let invoices = json(stripe.get(&format!("/v1/invoices?subscription={id}")).await).await;
    assert_eq!(invoices["data"].as_array().unwrap().len(), 2, "nothing invoiced yet");
    advance(JAN_1_2026 + 32 * DAY).await;
    let renewed = json(stripe.get(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice")).await).await;
    let renewal = &renewed["latest_invoice"];
    assert_eq!(amounts(renewal), [(-1100, true), (2200, true), (6200, false)]);
    assert_eq!((renewal["amount_due"].as_i64(), renewal["status"].as_str()), (Some(7300), Some("paid")));

    // `none`: the price changes, nothing is prorated.
    let form = [("items[0][id]", item), ("items[0][price]", basic.as_str()), ("proration_behavior", "none")];
    json(stripe.post(&format!("/v1/subscriptions/{id}"), &form).await).await;
    advance(JAN_1_2026 + 60 * DAY).await;
    let next = json(stripe.get(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice")).await).await;
    assert_eq!(amounts(&next["latest_invoice"]), [(1800, false)], "two seats of basic, no proration");
}
