//! CSRF defence for every state-changing request (server functions and plain forms alike):
//! the browser-set `Sec-Fetch-Site`, `Origin` or, failing both, `Referer` header must name this
//! site. Browsers attach these to every POST and page scripts cannot forge them; a request that
//! carries none of them is refused too. Session cookies are also SameSite=Lax.
//! (OWASP CSRF cheat sheet: "verifying origin with standard headers", "Fetch Metadata".)

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Which origin state-changing requests must come from.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    /// `scheme://host[:port]` of the configured public URL; without one, the request's own
    /// `Host` is the site.
    public_origin: Option<String>,
}

impl OriginPolicy {
    pub fn new(public_url: Option<&url::Url>) -> Self {
        Self { public_origin: public_url.map(|u| u.origin().ascii_serialization()) }
    }

    /// Whether `origin` (a serialised origin such as `https://a.example:8443`) is this site.
    fn is_own(&self, origin: &str, headers: &HeaderMap) -> bool {
        match &self.public_origin {
            Some(own) => origin.eq_ignore_ascii_case(own),
            None => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
                let authority = origin.split_once("://").map(|(_, rest)| rest);
                matches!((host, authority), (Some(host), Some(authority)) if host.eq_ignore_ascii_case(authority))
            }
        }
    }

    /// `Ok` when the request may change state, else why not.
    fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), &'static str> {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE) {
            return Ok(());
        }
        let get = |name| headers.get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
        match get("sec-fetch-site") {
            Some("same-origin") => return Ok(()),
            Some("cross-site" | "same-site") => return Err("the request came from another site"),
            _ => {}
        }
        if let Some(origin) = get(header::ORIGIN.as_str()) {
            return if self.is_own(origin, headers) { Ok(()) } else { Err("the Origin header names another site") };
        }
        if let Some(referer) = get(header::REFERER.as_str()) {
            let origin = url::Url::parse(referer).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
            return if self.is_own(&origin, headers) { Ok(()) } else { Err("the Referer header names another site") };
        }
        Err("the request has no Origin or Referer header")
    }
}

pub async fn check_origin(State(policy): State<OriginPolicy>, request: Request, next: Next) -> Response {
    match policy.check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            metrics::counter!("csrf_refusals_total").increment(1);
            tracing::warn!(method = %request.method(), path = request.uri().path(), reason, "cross-site request refused");
            (StatusCode::FORBIDDEN, format!("Cross-site request refused: {reason}.")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn same_site_posts_pass_and_others_are_refused() {
        let policy = OriginPolicy::new(None);
        let host = ("host", "127.0.0.1:3000");
        assert!(policy.check(&Method::POST, &headers(&[host, ("origin", "http://127.0.0.1:3000")])).is_ok());
        assert!(policy.check(&Method::POST, &headers(&[host, ("origin", "http://evil.example")])).is_err());
        assert!(policy.check(&Method::POST, &headers(&[host, ("origin", "null")])).is_err());
        assert!(policy.check(&Method::POST, &headers(&[host])).is_err());
        assert!(policy.check(&Method::POST, &headers(&[host, ("sec-fetch-site", "cross-site")])).is_err());
        assert!(policy.check(&Method::POST, &headers(&[host, ("referer", "http://127.0.0.1:3000/login")])).is_ok());
        assert!(
            policy.check(&Method::POST, &headers(&[host, ("referer", "http://127.0.0.1:3000.evil.example/")])).is_err()
        );
        assert!(policy.check(&Method::GET, &headers(&[host])).is_ok());
    }

    #[test]
    fn a_configured_public_url_is_the_only_accepted_origin() {
        let url = url::Url::parse("https://billing.example.com").unwrap();
        let policy = OriginPolicy::new(Some(&url));
        let host = ("host", "billing.example.com");
        assert!(policy.check(&Method::POST, &headers(&[host, ("origin", "https://billing.example.com")])).is_ok());
        assert!(policy.check(&Method::POST, &headers(&[host, ("origin", "http://billing.example.com")])).is_err());
    }
}
