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
    /// The reverse proxies in front of the server, each appending its peer to `X-Forwarded-For`.
    pub trusted_proxies: usize,
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

/// The client's address. With no trusted proxy, the peer's. Behind `trusted_proxies` proxies, each
/// appending the address it saw to `X-Forwarded-For`, the entry the outermost one added: the
/// `trusted_proxies`-th from the right. Entries further left were written by the client (anyone
/// can send the header) and are never taken. A request with fewer entries than that, or an entry
/// that is not an IP address, did not come through every proxy as configured: the peer is taken.
pub fn client_address(headers: &HeaderMap, peer: Option<SocketAddr>, config: IdentityConfig) -> String {
    let peer_ip = || peer.map(|addr| addr.ip().to_string()).unwrap_or_else(|| "unknown".into());
    if config.trusted_proxies == 0 {
        return peer_ip();
    }
    // Several header lines are one list, in order (RFC 9110, section 5.3).
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    entries
        .len()
        .checked_sub(config.trusted_proxies)
        .and_then(|at| entries[at].parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_string())
        .unwrap_or_else(peer_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(forwarded: &[&str], trusted_proxies: usize) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        client_address(&headers, Some(SocketAddr::from(([10, 0, 0, 9], 4711))), IdentityConfig { trusted_proxies })
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(address(&["203.0.113.7"], 0), "10.0.0.9");
    }

    #[test]
    fn the_entry_the_outermost_trusted_proxy_added_is_taken_counting_from_the_right() {
        // The client wrote "1.2.3.4"; the one proxy appended the address it saw.
        assert_eq!(address(&["1.2.3.4, 203.0.113.7"], 1), "203.0.113.7");
        // Two proxies: the outer one appended the client, the inner one the outer proxy.
        assert_eq!(address(&["1.2.3.4, 203.0.113.7, 10.0.0.2"], 2), "203.0.113.7");
        // Header lines are one list.
        assert_eq!(address(&["1.2.3.4", "203.0.113.7, 10.0.0.2"], 2), "203.0.113.7");
        assert_eq!(address(&["2001:db8::1"], 1), "2001:db8::1");
    }

    #[test]
    fn too_few_entries_or_a_non_address_fall_back_to_the_peer() {
        assert_eq!(address(&["203.0.113.7"], 2), "10.0.0.9");
        assert_eq!(address(&[], 1), "10.0.0.9");
        assert_eq!(address(&["1.2.3.4, evil"], 1), "10.0.0.9");
    }
}
