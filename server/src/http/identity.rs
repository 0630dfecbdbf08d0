//! Resolves who is calling, once per request: the client address and the signed-in account,
//! put into the request extensions for pages, server functions and the log-in throttle.

use std::net::SocketAddr;

use app::{
    AppState, CurrentUser,
    ssr::{ClientIp, load_session_user},
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use tower_sessions::Session;

#[derive(Debug, Clone, Copy)]
pub struct IdentityConfig {
    pub trust_proxy_headers: bool,
}

pub async fn resolve(
    State((state, config)): State<(AppState, IdentityConfig)>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&request, config);
    let user = match request.extensions().get::<Session>() {
        Some(session) => load_session_user(session, &state).await.unwrap_or_else(|e| {
            tracing::warn!(error = ?e, "could not load the session's account; treating the request as signed out");
            None
        }),
        None => None,
    };
    request.extensions_mut().insert(ClientIp(ip));
    request.extensions_mut().insert(CurrentUser(user));
    next.run(request).await
}

fn client_ip(request: &Request, config: IdentityConfig) -> String {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr);
    client_address(request.headers(), peer, config)
}

/// The client's address: the first `X-Forwarded-For` entry when proxies are trusted, else the peer.
pub fn client_address(headers: &HeaderMap, peer: Option<SocketAddr>, config: IdentityConfig) -> String {
    if config.trust_proxy_headers {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    peer.map(|addr| addr.ip().to_string()).unwrap_or_else(|| "unknown".into())
}
