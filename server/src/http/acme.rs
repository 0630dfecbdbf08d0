//! `GET /.well-known/acme-challenge/{token}`: the HTTP-01 answer for a custom domain's pending
//! certificate order (RFC 8555 section 8.3), from the database, so any web node can answer.

use app::AppState;
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

pub async fn challenge(State(state): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    // The CA asks for the domain being validated; a request for another host is not answered.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let hostname = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    match billhook_core::custom_domains::challenge_response(&state.db, hostname, &token).await {
        Ok(Some(key_authorization)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], key_authorization).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such challenge").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read an ACME challenge");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}
