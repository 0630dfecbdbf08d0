//! `Idempotency-Key`, as Stripe honours it on POST requests: the same key with the same request
//! answers the first answer again (`Idempotent-Replayed: true`); the same key with another
//! request is an `idempotency_error`; a second request while the first still runs is a 409
//! (`idempotency_key_in_use`). Keys and answers are kept in `sandbox_idempotency`.

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

    match reserve(sandbox, &key, &fingerprint).await.map_err(IntoResponse::into_response)? {
        Reservation::Taken => {}
        Reservation::Answered(status, answer) => return Ok(replayed(status, answer)),
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let answer = to_bytes(body, usize::MAX).await.unwrap_or_default();
    // Stripe keeps the answer of any request that ran (errors too), not of its own failures: after
    // a 5xx the key is free again.
    let kept = if parts.status.is_server_error() {
        release(sandbox, &key).await
    } else {
        keep(sandbox, &key, parts.status.as_u16(), &String::from_utf8_lossy(&answer)).await
    };
    if let Err(e) = kept {
        tracing::warn!(error = %e, "could not keep or release an idempotent answer");
    }
    Ok(Response::from_parts(parts, Body::from(answer)))
}

/// What a key's row says when a request arrives with it.
enum Reservation {
    /// The key is this request's now: run it.
    Taken,
    /// An earlier request with the same parameters answered this.
    Answered(i64, String),
}

/// A reserved key whose request has not answered yet (`status` 0).
const RUNNING: i64 = 0;
/// A reservation this old is from a node that died mid-request: the next request may take it.
const ABANDONED_AFTER_MS: i64 = 60_000;

/// Takes the key for this request, or says why not: the first answer to replay, another request
/// still running with it (409) or other parameters (400). One row per key, so two nodes racing
/// on the same key see one winner.
async fn reserve(sandbox: &Sandbox, key: &str, fingerprint: &str) -> Result<Reservation, ApiError> {
    let db = sandbox.store.db();
    let now = clock::now_ms();
    let inserted = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO sandbox_idempotency (key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, '', $4) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(RUNNING)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    if inserted == 1 {
        return Ok(Reservation::Taken);
    }
    let stored: Option<(String, i64, String, i64)> = on_db!(db, pool => {
        sqlx::query_as("SELECT fingerprint, status, body, created_at FROM sandbox_idempotency WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await
    })?;
    let Some((seen, status, answer, reserved_at)) = stored else {
        // The first request failed and freed the key a moment ago: this one may try again.
        return Err(ApiError::idempotency_key_in_use());
    };
    if seen != fingerprint {
        return Err(ApiError::idempotency_mismatch(key));
    }
    if status != RUNNING {
        return Ok(Reservation::Answered(status, answer));
    }
    if reserved_at > now - ABANDONED_AFTER_MS {
        return Err(ApiError::idempotency_key_in_use());
    }
    let taken_over = on_db!(db, pool => {
        sqlx::query("UPDATE sandbox_idempotency SET created_at = $3 WHERE key = $1 AND status = 0 AND created_at = $2")
            .bind(key)
            .bind(reserved_at)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    if taken_over == 1 { Ok(Reservation::Taken) } else { Err(ApiError::idempotency_key_in_use()) }
}

async fn keep(sandbox: &Sandbox, key: &str, status: u16, answer: &str) -> Result<(), sqlx::Error> {
    on_db!(sandbox.store.db(), pool => {
        sqlx::query("UPDATE sandbox_idempotency SET status = $2, body = $3 WHERE key = $1")
            .bind(key)
            .bind(i64::from(status))
            .bind(answer)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

async fn release(sandbox: &Sandbox, key: &str) -> Result<(), sqlx::Error> {
    on_db!(sandbox.store.db(), pool => {
        sqlx::query("DELETE FROM sandbox_idempotency WHERE key = $1 AND status = 0")
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

fn replayed(status: i64, body: String) -> Response {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut response = (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
