//! `POST /webhooks/stripe`: verify, store, acknowledge - in one short transaction, nothing else.
//!
//! | outcome | status | body `error` |
//! |---|---|---|
//! | stored (first delivery or duplicate) | 200 | - |
//! | body over the limit | 413 | `body_too_large` |
//! | missing/malformed header, no matching signature, stale timestamp | 400 | the reason code |
//! | signed but not a usable event (kept, see `keep_unusable`) | 400 | `not_an_event` / `bad_event_id` |
//! | the database cannot take the write | 503 | `storage_unavailable` (Stripe retries) |
//! | the processing backlog is over its bound | 503 | `backlog_full` (Stripe retries) |

use std::{net::SocketAddr, sync::Arc};

use app::Webhooks;
use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use billhook_core::{
    Db, clock,
    webhooks::{Delivery, EventEnvelope, Recorded, RefusedDelivery, keep_unusable},
};
use serde_json::json;

use super::identity::{IdentityConfig, client_address};

/// What the endpoint needs, shared by every delivery: one reference count per request, where the
/// whole [`app::AppState`] would clone each of its parts (a few per cent of the CPU under load,
/// docs/benchmarks.md run 11).
pub struct Endpoint {
    webhooks: Webhooks,
    db: Db,
    identity: IdentityConfig,
}

impl Endpoint {
    pub fn new(state: &app::AppState, identity: IdentityConfig) -> Arc<Self> {
        Arc::new(Self { webhooks: state.webhooks.clone(), db: state.db.clone(), identity })
    }
}

/// Headers never stored with a delivery.
const NOT_STORED: [&str; 2] = ["cookie", "authorization"];

fn refuse(status: StatusCode, reason: &'static str, message: String) -> Response {
    metrics::counter!("webhook_deliveries_total", "outcome" => reason).increment(1);
    (status, Json(json!({ "error": reason, "message": message }))).into_response()
}

fn headers_json(headers: &HeaderMap) -> String {
    let map: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .filter(|(name, _)| !NOT_STORED.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned().into()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

pub async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let source = client_address(&headers, Some(peer), endpoint.identity);
    let now_ms = clock::now_ms();
    let hooks = &endpoint.webhooks;
    let log_refusal = |reason: &'static str, size: usize| {
        hooks.refused.push(RefusedDelivery { at_ms: now_ms, reason, source: source.clone(), size });
        tracing::warn!(reason, source = %source, size, "webhook delivery refused");
    };

    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let reason = if status == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "unreadable_body" };
            log_refusal(reason, 0);
            return refuse(status, reason, rejection.body_text());
        }
    };

    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    if let Err(e) = hooks.verifier.verify(signature, &body, now_ms / 1000) {
        log_refusal(e.as_str(), body.len());
        return refuse(StatusCode::BAD_REQUEST, e.as_str(), e.to_string());
    }

    // Signed, so Stripe's: it retries a 503 later, when processing has caught up.
    if !hooks.backlog.admits() {
        let message = format!("over {} events wait to be processed; try again later", hooks.backlog.bound());
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "backlog_full", message);
    }

    let headers_json = headers_json(&headers);
    // The body's buffer becomes the stored text (no copy).
    let (envelope, payload) = match EventEnvelope::read(Vec::from(body)) {
        Ok(read) => read,
        Err((e, body)) => {
            log_refusal(e.as_str(), body.len());
            // Genuine but unusable: keep it for operators. If even that fails, let Stripe retry.
            if let Err(db) =
                keep_unusable(&endpoint.db, now_ms, e.as_str(), &e.to_string(), &source, &body, &headers_json).await
            {
                tracing::error!(error = %db, "could not keep an unusable webhook delivery");
                return refuse(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "try again later".into());
            }
            return refuse(StatusCode::BAD_REQUEST, e.as_str(), e.to_string());
        }
    };
    let id = envelope.id.clone();
    let delivery = Delivery { envelope, payload, headers: headers_json, received_at_ms: now_ms };
    match hooks.inbox.record(delivery).await {
        Ok(Recorded::First) => {
            metrics::counter!("webhook_deliveries_total", "outcome" => "stored").increment(1);
            (StatusCode::OK, Json(json!({ "received": id, "duplicate": false }))).into_response()
        }
        Ok(Recorded::Duplicate { delivery_count }) => {
            metrics::counter!("webhook_deliveries_total", "outcome" => "duplicate").increment(1);
            (StatusCode::OK, Json(json!({ "received": id, "duplicate": true, "delivery_count": delivery_count })))
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, event = %id, "webhook delivery not stored; answering 503 so Stripe retries");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "try again later".into())
        }
    }
}
