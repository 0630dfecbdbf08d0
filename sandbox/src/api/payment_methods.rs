//! `/v1/payment_methods`: cards from a number (as the Payment Element sends them) or from one of
//! Stripe's test PaymentMethod ids; attach to and detach from a customer; list a customer's.

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Value, json};

use super::{answer, events, list_response};
use crate::{
    Sandbox,
    cards::{self, Behaviour, TestCard},
    error::ApiError,
    params::{Params, apply_metadata},
    store::{Page, new_id},
};

/// The behaviour of a stored card, from its last four digits (each of Stripe's test cards has
/// its own).
pub fn behaviour(method: &Value) -> Behaviour {
    let last4 = method["card"]["last4"].as_str().unwrap_or_default();
    cards::by_last4(last4).map_or(Behaviour::Succeeds, |c| c.behaviour)
}

/// A new card PaymentMethod (stored, no customer).
async fn store_card(sandbox: &Sandbox, card: TestCard, last4: &str, exp: (i64, i64)) -> Result<Value, ApiError> {
    let mut method: Value = serde_json::from_str(include_str!("../templates/payment_method.json")).unwrap_or_default();
    method["id"] = new_id("pm").into();
    method["created"] = sandbox.now().into();
    method["card"]["brand"] = card.brand.into();
    method["card"]["display_brand"] = card.brand.into();
    method["card"]["networks"] = json!({ "available": [card.brand], "preferred": null });
    method["card"]["last4"] = last4.into();
    method["card"]["exp_month"] = exp.0.into();
    method["card"]["exp_year"] = exp.1.into();
    method["card"]["fingerprint"] = format!("sbx{last4}{}", card.brand).into();
    sandbox.store.insert(&method).await?;
    Ok(method)
}

/// The PaymentMethod `id` names; one of Stripe's test ids (`pm_card_visa`) makes a fresh one,
/// as in Stripe test mode.
pub async fn resolve(sandbox: &Sandbox, id: &str, param: &str) -> Result<Value, ApiError> {
    match cards::by_test_method(id) {
        Some(card) => store_card(sandbox, card, &card.number[card.number.len() - 4..], (12, 2034)).await,
        None => sandbox.store.get("payment_method", id, param).await,
    }
}

/// Attaches `method` to `customer` (a card that declines verification is refused).
pub async fn attach(sandbox: &Sandbox, method: &mut Value, customer: &str) -> Result<(), ApiError> {
    if method["customer"] == customer {
        return Ok(());
    }
    if !method["customer"].is_null() {
        return Err(ApiError::invalid(format!(
            "The payment method you provided has already been attached to a customer ({}).",
            method["customer"].as_str().unwrap_or_default()
        )));
    }
    if let Behaviour::Declined { decline_code, setup_fails: true } = behaviour(method) {
        return Err(ApiError::card("card_declined", Some(decline_code), None));
    }
    method["customer"] = customer.into();
    sandbox.store.update(method).await?;
    events::record(sandbox, "payment_method.attached", method, None).await?;
    Ok(())
}

pub async fn create(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    if params.required("type")? != "card" {
        return Err(ApiError::invalid_param("type", "The sandbox offers card payment methods only.".into()));
    }
    let mut card = params.object("card")?.ok_or_else(|| ApiError::missing_param("card"))?;
    let number = card.required("number")?;
    let test_card =
        cards::by_number(&number).ok_or_else(|| ApiError::card("incorrect_number", None, Some("card[number]")))?;
    let month = card.integer("exp_month")?.ok_or_else(|| ApiError::missing_param("card[exp_month]"))?;
    let mut year = card.integer("exp_year")?.ok_or_else(|| ApiError::missing_param("card[exp_year]"))?;
    if year < 100 {
        year += 2000;
    }
    if !(1..=12).contains(&month) {
        return Err(ApiError::card("invalid_expiry_month", None, Some("card[exp_month]")));
    }
    if (year, month) < current_year_month(sandbox.now()) {
        return Err(ApiError::card("invalid_expiry_year", None, Some("card[exp_year]")));
    }
    if let Some(cvc) = card.string("cvc")?
        && !(3..=4).contains(&cvc.len())
    {
        return Err(ApiError::card("invalid_cvc", None, Some("card[cvc]")));
    }
    card.finish()?;
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let mut method = store_card(&sandbox, test_card, &digits[digits.len() - 4..], (month, year)).await?;
    if let Some(mut billing) = params.object("billing_details")? {
        for field in ["name", "email", "phone"] {
            if let Some(value) = billing.string(field)? {
                method["billing_details"][field] = value.into();
            }
        }
        billing.finish()?;
    }
    if let Some(update) = params.metadata()? {
        apply_metadata(&mut method["metadata"], update);
    }
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.update(&method).await?;
    answer(&sandbox, method, &paths).await
}

/// (year, month) of a Unix time.
fn current_year_month(unix: i64) -> (i64, i64) {
    let now = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (i64::from(now.year()), i64::from(u8::from(now.month())))
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let paths = params.expand()?;
    params.finish()?;
    let method = resolve(&sandbox, &id, "id").await?;
    answer(&sandbox, method, &paths).await
}

pub async fn attach_to(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let customer = params.required("customer")?;
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.get("customer", &customer, "customer").await?;
    let mut method = resolve(&sandbox, &id, "id").await?;
    attach(&sandbox, &mut method, &customer).await?;
    answer(&sandbox, method, &paths).await
}

pub async fn detach(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.finish()?;
    let mut method = sandbox.store.get("payment_method", &id, "id").await?;
    if method["customer"].is_null() {
        return Err(ApiError::invalid(format!("The payment method {id} is not attached to a customer.")));
    }
    method["customer"] = Value::Null;
    sandbox.store.update(&method).await?;
    events::record(&sandbox, "payment_method.detached", &method, None).await?;
    Ok(Json(method))
}

async fn list_for(sandbox: &Sandbox, customer: &str, page: &Page, url: &str) -> Result<Json<Value>, ApiError> {
    sandbox.store.get("customer", customer, "customer").await?;
    let (data, has_more) = sandbox.store.list("payment_method", page, |m| m["customer"] == customer).await?;
    Ok(list_response(url, data, has_more))
}

/// `GET /v1/payment_methods?customer=...`
pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let customer = params.required("customer")?;
    params.one_of("type", &["card"])?;
    params.expand()?;
    params.finish()?;
    list_for(&sandbox, &customer, &page, "/v1/payment_methods").await
}

/// `GET /v1/customers/{id}/payment_methods`
pub async fn list_of_customer(
    State(sandbox): State<Sandbox>,
    Path(customer): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    params.one_of("type", &["card"])?;
    params.expand()?;
    params.finish()?;
    list_for(&sandbox, &customer, &page, &format!("/v1/customers/{customer}/payment_methods")).await
}

/// Kept for a card once 3-D Secure passed while saving it: later off-session charges of a card
/// that needs authentication once then succeed (Stripe's 4000 0025 0000 3155).
fn authentication_id(method_id: &str) -> String {
    format!("authn_{method_id}")
}

pub async fn authenticated(sandbox: &Sandbox, method_id: &str) -> Result<bool, ApiError> {
    Ok(sandbox.store.find(&authentication_id(method_id)).await?.is_some())
}

pub async fn remember_authentication(sandbox: &Sandbox, method_id: &str) -> Result<(), ApiError> {
    if !authenticated(sandbox, method_id).await? {
        let record = json!({
            "id": authentication_id(method_id), "object": "sandbox.authentication", "created": sandbox.now(),
            "payment_method": method_id,
        });
        sandbox.store.insert(&record).await?;
    }
    Ok(())
}
