//! `/v1/test_helpers/test_clocks`: create, retrieve, list, advance, delete. A customer created
//! with `test_clock` lives in the clock's time; advancing the clock runs what falls due on the
//! way (`renewals`), then the clock is `ready` again.

use axum::{
    Json,
    extract::{Path, State},
};
use http::HeaderMap;
use serde_json::{Value, json};

use super::{events, list_response, renewals, sandbox_base};
use crate::{Sandbox, error::ApiError, params::Params, store::new_id};

const OBJECT: &str = "test_helpers.test_clock";

pub async fn create(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let frozen = params.integer("frozen_time")?.ok_or_else(|| ApiError::missing_param("frozen_time"))?;
    let name = params.string("name")?;
    params.finish()?;
    let now = sandbox.now();
    let clock = json!({
        "id": new_id("clock"), "object": OBJECT, "created": now, "deletes_after": now + 30 * 86_400,
        "frozen_time": frozen, "livemode": false, "name": name, "status": "ready", "status_details": {},
    });
    sandbox.store.insert(&clock).await?;
    events::record(&sandbox, "test_helpers.test_clock.created", &clock, None).await?;
    Ok(Json(clock))
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.finish()?;
    Ok(Json(sandbox.store.get(OBJECT, &id, "id").await?))
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    params.finish()?;
    let (data, has_more) = sandbox.store.list(OBJECT, &page, |c| c["status"] != "deleted").await?;
    Ok(list_response("/v1/test_helpers/test_clocks", data, has_more))
}

/// Moves the clock forward to `frozen_time`, running every renewal on the way.
pub async fn advance(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let to = params.integer("frozen_time")?.ok_or_else(|| ApiError::missing_param("frozen_time"))?;
    params.finish()?;
    Ok(Json(advance_to(&sandbox, &id, to, &sandbox_base(&headers)).await?))
}

/// Moves clock `id` forward to `to`, running every renewal on the way (`sandbox_base`: where
/// the challenge pages of renewals that need the customer are reached).
///
/// The advance runs on a task of its own: a client that hangs up (a browser that navigates away
/// from the button it pressed) drops only its wait, never a clock half-way through a renewal.
pub async fn advance_to(sandbox: &Sandbox, id: &str, to: i64, sandbox_base: &str) -> Result<Value, ApiError> {
    let (sandbox, id, sandbox_base) = (sandbox.clone(), id.to_owned(), sandbox_base.to_owned());
    tokio::spawn(async move { run_advance(&sandbox, &id, to, &sandbox_base).await })
        .await
        .map_err(|error| ApiError::internal(&error))?
}

async fn run_advance(sandbox: &Sandbox, id: &str, to: i64, sandbox_base: &str) -> Result<Value, ApiError> {
    let mut clock = sandbox.store.get(OBJECT, id, "id").await?;
    let from = clock["frozen_time"].as_i64().unwrap_or_default();
    if to <= from {
        return Err(ApiError::invalid_param("frozen_time", "A test clock can only move forward.".into()));
    }
    if to - from > 2 * 366 * 86_400 {
        return Err(ApiError::invalid_param(
            "frozen_time",
            "A test clock advances at most two years at a time.".into(),
        ));
    }
    clock["status"] = "advancing".into();
    clock["status_details"] = json!({ "advancing": { "target_frozen_time": to } });
    sandbox.store.update(&clock).await?;
    events::record(sandbox, "test_helpers.test_clock.advancing", &clock, None).await?;
    renewals::run(sandbox, &mut clock, to, sandbox_base).await?;
    clock["frozen_time"] = to.into();
    clock["status"] = "ready".into();
    clock["status_details"] = json!({});
    sandbox.store.update(&clock).await?;
    events::record(sandbox, "test_helpers.test_clock.ready", &clock, None).await?;
    Ok(clock)
}

pub async fn delete(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.finish()?;
    let mut clock = sandbox.store.get(OBJECT, &id, "id").await?;
    clock["status"] = "deleted".into();
    sandbox.store.update(&clock).await?;
    events::record(&sandbox, "test_helpers.test_clock.deleted", &clock, None).await?;
    Ok(Json(json!({ "id": id, "object": OBJECT, "deleted": true })))
}
