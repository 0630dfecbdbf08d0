//! `/v1/payment_intents`: create (optionally confirming), retrieve, confirm, cancel, list. A
//! publishable key may retrieve and confirm one with its client secret, as Stripe.js does.

use axum::{
    Extension, Json,
    extract::{Path, State},
};
use http::HeaderMap;
use serde_json::Value;

use super::{
    Caller, answer, events,
    intents::{self, Confirmation, Kind},
    list_page, sandbox_base,
};
use crate::{Sandbox, error::ApiError, params::Params};

pub async fn create(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut intent = intents::new_intent(&sandbox, Kind::Payment);
    let amount = params.integer("amount")?.ok_or_else(|| ApiError::missing_param("amount"))?;
    if amount < 1 {
        return Err(ApiError::invalid_param("amount", "This value must be greater than or equal to 1.".into()));
    }
    intent["amount"] = amount.into();
    intent["currency"] = params.required("currency")?.to_ascii_lowercase().into();
    intents::take_common(&sandbox, &mut intent, &mut params).await?;
    if let Some(usage) = params.one_of("setup_future_usage", &["on_session", "off_session"])? {
        intent["setup_future_usage"] = usage.into();
    }
    for field in ["receipt_email", "statement_descriptor_suffix"] {
        if let Some(value) = params.string(field)? {
            intent[field] = value.into();
        }
    }
    let confirm = params.boolean("confirm")?.unwrap_or(false);
    let off_session = params.boolean("off_session")?.unwrap_or(false);
    let return_url = params.string("return_url")?;
    if (off_session || return_url.is_some()) && !confirm {
        return Err(ApiError::invalid_param(
            if off_session { "off_session" } else { "return_url" },
            "This parameter can only be used with confirm=true.".into(),
        ));
    }
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.insert(&intent).await?;
    events::record(&sandbox, "payment_intent.created", &intent, None).await?;
    if confirm {
        let base = sandbox_base(&headers);
        intents::confirm(
            &sandbox,
            Kind::Payment,
            &mut intent,
            Confirmation { off_session, return_url, sandbox_base: &base },
        )
        .await?;
    }
    answer(&sandbox, intent, &paths).await
}

/// The PaymentIntent that pays `invoice` (confirmed later, in the browser with the invoice's
/// confirmation secret or off-session with a saved card); `save_card` keeps the card for renewals.
pub async fn for_invoice(sandbox: &Sandbox, invoice: &Value, save_card: bool) -> Result<Value, ApiError> {
    let mut intent = intents::new_intent(sandbox, Kind::Payment);
    intent["amount"] = invoice["amount_due"].clone();
    intent["currency"] = invoice["currency"].clone();
    intent["customer"] = invoice["customer"].clone();
    intent["description"] = format!("Invoice {}", invoice["number"].as_str().unwrap_or_default()).into();
    if save_card {
        intent["setup_future_usage"] = "off_session".into();
    }
    sandbox.store.insert(&intent).await?;
    events::record(sandbox, "payment_intent.created", &intent, None).await?;
    Ok(intent)
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    intents::retrieve(&sandbox, Kind::Payment, caller, &id, params).await
}

pub async fn confirm(
    State(sandbox): State<Sandbox>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    intents::confirm_request(&sandbox, Kind::Payment, caller, &headers, &id, params).await
}

pub async fn cancel(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let reason =
        params.one_of("cancellation_reason", &["duplicate", "fraudulent", "requested_by_customer", "abandoned"])?;
    params.finish()?;
    let mut intent = sandbox.store.get("payment_intent", &id, "intent").await?;
    let status = intent["status"].as_str().unwrap_or_default();
    if ["succeeded", "canceled"].contains(&status) {
        return Err(ApiError::invalid(format!(
            "You cannot cancel this PaymentIntent because it has a status of {status}."
        )));
    }
    intent["status"] = "canceled".into();
    intent["canceled_at"] = sandbox.now().into();
    intent["cancellation_reason"] = reason.map_or(Value::Null, Value::from);
    intent["next_action"] = Value::Null;
    sandbox.store.update(&intent).await?;
    events::record(&sandbox, "payment_intent.canceled", &intent, None).await?;
    Ok(Json(intent))
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let customer = params.string("customer")?;
    let paths = params.expand()?;
    params.finish()?;
    list_page(&sandbox, "payment_intent", "/v1/payment_intents", &page, &paths, |i| {
        customer.as_deref().is_none_or(|c| i["customer"] == c)
    })
    .await
}
