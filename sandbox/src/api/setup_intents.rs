//! `/v1/setup_intents`: save a card for later (off-session) payments - create (optionally
//! confirming), retrieve, confirm, cancel. A publishable key may retrieve and confirm one with its
//! client secret, as Stripe.js does.

use axum::{
    Extension, Json,
    extract::{Path, State},
};
use http::HeaderMap;
use serde_json::Value;

use super::{
    Caller, answer, events,
    intents::{self, Confirmation, Kind},
    sandbox_base,
};
use crate::{Sandbox, error::ApiError, params::Params};

pub async fn create(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut intent = intents::new_intent(&sandbox, Kind::Setup);
    intents::take_common(&sandbox, &mut intent, &mut params).await?;
    if let Some(usage) = params.one_of("usage", &["on_session", "off_session"])? {
        intent["usage"] = usage.into();
    }
    let confirm = params.boolean("confirm")?.unwrap_or(false);
    let return_url = params.string("return_url")?;
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.insert(&intent).await?;
    events::record(&sandbox, "setup_intent.created", &intent, None).await?;
    if confirm {
        let base = sandbox_base(&headers);
        let how = Confirmation { off_session: false, return_url, sandbox_base: &base };
        intents::confirm(&sandbox, Kind::Setup, &mut intent, how).await?;
    }
    answer(&sandbox, intent, &paths).await
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    intents::retrieve(&sandbox, Kind::Setup, caller, &id, params).await
}

pub async fn confirm(
    State(sandbox): State<Sandbox>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    intents::confirm_request(&sandbox, Kind::Setup, caller, &headers, &id, params).await
}

pub async fn cancel(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let reason = params.one_of("cancellation_reason", &["abandoned", "duplicate", "requested_by_customer"])?;
    params.finish()?;
    let mut intent = sandbox.store.get("setup_intent", &id, "intent").await?;
    let status = intent["status"].as_str().unwrap_or_default();
    if ["succeeded", "canceled"].contains(&status) {
        return Err(ApiError::invalid(format!(
            "You cannot cancel this SetupIntent because it has a status of {status}."
        )));
    }
    intent["status"] = "canceled".into();
    intent["cancellation_reason"] = reason.map_or(Value::Null, Value::from);
    intent["next_action"] = Value::Null;
    sandbox.store.update(&intent).await?;
    events::record(&sandbox, "setup_intent.canceled", &intent, None).await?;
    Ok(Json(intent))
}
