//! Events: every state change the sandbox makes is recorded in Stripe's event shape (listed by
//! `GET /v1/events`, which Billhook's reconciliation reads).

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Map, Value};

use super::list_response;
use crate::{Sandbox, error::ApiError, params::Params, store::new_id};

/// The API version the sandbox answers in: the one async-stripe's pinned release speaks.
pub const API_VERSION: &str = "2026-09-30.endive";

/// Records `event_type` about `object` (with the fields an update changed, as they were).
pub async fn record(
    sandbox: &Sandbox,
    event_type: &str,
    object: &Value,
    previous_attributes: Option<Map<String, Value>>,
) -> Result<Value, ApiError> {
    let mut event: Value = serde_json::from_str(include_str!("../templates/event.json")).unwrap_or_default();
    event["id"] = new_id("evt").into();
    event["type"] = event_type.into();
    event["created"] = sandbox.now().into();
    event["api_version"] = API_VERSION.into();
    event["data"]["object"] = object.clone();
    if let Some(previous) = previous_attributes {
        event["data"]["previous_attributes"] = Value::Object(previous);
    }
    sandbox.store.insert(&event).await?;
    crate::delivery::queue(sandbox, event["id"].as_str().unwrap_or_default()).await?;
    Ok(event)
}

/// Stores `object` and records `event_type` with the fields that really changed (of those in
/// `previous`, as they were), when any did; `touch` names a field to stamp with the time then
/// (a product's `updated`).
pub async fn save_changes(
    sandbox: &Sandbox,
    object: &mut Value,
    previous: Map<String, Value>,
    event_type: &str,
    touch: Option<&str>,
) -> Result<(), ApiError> {
    let changed: Map<String, Value> =
        previous.into_iter().filter(|(field, old)| object[field.as_str()] != *old).collect();
    if changed.is_empty() {
        return Ok(());
    }
    if let Some(field) = touch {
        object[field] = sandbox.now().into();
    }
    sandbox.store.update(object).await?;
    record(sandbox, event_type, object, Some(changed)).await.map(|_| ())
}

/// `created` as Stripe filters lists: `created=<ts>` or `created[gt|gte|lt|lte]=<ts>`.
fn created_filter(params: &mut Params) -> Result<impl Fn(i64) -> bool + use<>, ApiError> {
    let (mut low, mut high) = (i64::MIN, i64::MAX);
    if let Some(mut range) = params.object("created")? {
        if let Some(t) = range.integer("gte")? {
            low = low.max(t);
        }
        if let Some(t) = range.integer("gt")? {
            low = low.max(t.saturating_add(1));
        }
        if let Some(t) = range.integer("lte")? {
            high = high.min(t);
        }
        if let Some(t) = range.integer("lt")? {
            high = high.min(t.saturating_sub(1));
        }
        range.finish()?;
    } else if let Some(t) = params.integer("created")? {
        (low, high) = (t, t);
    }
    Ok(move |created: i64| (low..=high).contains(&created))
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let in_range = created_filter(&mut params)?;
    let mut types = params.strings("types")?.unwrap_or_default();
    types.extend(params.string("type")?);
    params.expand()?;
    params.finish()?;
    let matches_type = |t: &str| {
        types.is_empty()
            || types
                .iter()
                .any(|wanted| wanted == t || wanted.strip_suffix('*').is_some_and(|prefix| t.starts_with(prefix)))
    };
    let (data, has_more) = sandbox
        .store
        .list("event", &page, |e| {
            in_range(e["created"].as_i64().unwrap_or_default()) && matches_type(e["type"].as_str().unwrap_or_default())
        })
        .await?;
    Ok(list_response("/v1/events", data, has_more))
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.finish()?;
    Ok(Json(sandbox.store.get("event", &id, "id").await?))
}
