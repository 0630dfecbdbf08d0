//! `Idempotency-Key`, as Stripe honours it on POST requests: the same key with the same request
//! answers the first answer again (`Idempotent-Replayed: true`); the same key with another
//! request is an `idempotency_error`. Answers are kept in `sandbox_idempotency`.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use billhook_core::{clock, on_db};
use http::{HeaderValue, Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::{Sandbox, error::ApiError};

/// Stripe's limit on a key's length.
const MAX_KEY_LEN: usize = 255;
const BODY_LIMIT: usize = 1024 * 1024;

pub async fn replay_or_record(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    let key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let Some(key) = key.filter(|_| request.method() == Method::POST) else {
        return next.run(request).await;
    };
    match handle(&sandbox, key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn handle(sandbox: &Sandbox, key: String, request: Request, next: Next) -> Result<Response, Response> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::invalid_param("Idempotency-Key", "Idempotency keys are 1 to 255 characters.".into())
            .into_response());
    }
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::invalid("The request body is too large.".into()).into_response())?;
    let fingerprint =
        hex::encode(Sha256::new().chain_update(parts.uri.path()).chain_update([0]).chain_update(&body).finalize());

    let db = sandbox.store.db();
    let stored: Option<(String, i64, String)> = on_db!(db, pool => {
        sqlx::query_as("SELECT fingerprint, status, body FROM sandbox_idempotency WHERE key = $1").bind(&key).fetch_optional(pool).await
    })
    .map_err(|e| ApiError::storage(&e).into_response())?;
    if let Some((seen, status, answer)) = stored {
        if seen != fingerprint {
            return Err(ApiError::idempotency_mismatch(&key).into_response());
        }
        return Ok(replayed(status, answer));
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let answer = to_bytes(body, usize::MAX).await.unwrap_or_default();
    // Stripe keeps the answer of any request that ran (errors too), not of its own failures.
    if !parts.status.is_server_error() {
        let text = String::from_utf8_lossy(&answer).into_owned();
        let kept = on_db!(db, pool => {
            sqlx::query(
                "INSERT INTO sandbox_idempotency (key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(&key)
            .bind(&fingerprint)
            .bind(i64::from(parts.status.as_u16()))
            .bind(&text)
            .bind(clock::now_ms())
            .execute(pool)
            .await
            .map(|_| ())
        });
        if let Err(e) = kept {
            tracing::warn!(error = %e, "could not keep an idempotent answer");
        }
    }
    Ok(Response::from_parts(parts, Body::from(answer)))
}

fn replayed(status: i64, body: String) -> Response {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut response = (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
