//! The HTTP surface of the web role: Leptos pages and server functions, operations endpoints,
//! and the layers every request passes (panic guard, metrics, tracing, timeout, body limit,
//! compression, CSRF origin check, session, identity).

mod acme;
mod csrf;
mod exports;
mod identity;
mod metrics;
mod ops;
mod panic;
pub mod serve;
mod webhooks;

use std::time::Duration;

use app::{App, AppState, shell};
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware,
    routing::{get, post},
};
use billhook_core::sessions::DbSessionStore;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    catch_panic::CatchPanicLayer, compression::CompressionLayer, limit::RequestBodyLimitLayer, timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::config::Settings;

pub use self::metrics::install_recorder;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "billhook_session";

/// The whole HTTP surface; the offline Stripe sandbox, when it runs, is nested at
/// [`crate::sandbox::MOUNT`].
pub fn router(settings: &Settings, state: AppState) -> Router {
    install_recorder();
    let routes = generate_route_list(App);
    let leptos_context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let leptos_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };

    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            i64::try_from(settings.session_idle_minutes).unwrap_or(i64::MAX / 60),
        )));

    let csrf = csrf::OriginPolicy::new(settings.public_url.as_ref());
    let identity = identity::IdentityConfig { trusted_proxies: settings.trusted_proxies };

    // Stripe's deliveries skip the browser layers (session, identity, CSRF, compression): they
    // are authenticated by their signature and must be answered in milliseconds.
    let webhook_routes = Router::new()
        .route("/webhooks/stripe", post(webhooks::receive))
        .layer(DefaultBodyLimit::max(settings.webhook_body_limit_bytes))
        .with_state(webhooks::Endpoint::new(&state, identity));
    // A certificate authority's HTTP-01 validation request: no session, no cookies.
    let acme_routes =
        Router::new().route("/.well-known/acme-challenge/{token}", get(acme::challenge)).with_state(state.clone());

    // The sandbox is Stripe's API, not a page: like Stripe's deliveries, no browser layers (its
    // callers authenticate with its secret key).
    let sandbox_routes = match &state.sandbox {
        Some(sandbox) => Router::new().nest(crate::sandbox::MOUNT, sandbox.router()),
        None => Router::new(),
    };

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(metrics::render))
        .route("/account/exports/{id}", get(exports::download))
        .leptos_routes_with_context(&state, routes, leptos_context.clone(), leptos_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(leptos_context, shell))
        // Innermost first: identity needs the session, the session layer runs after the CSRF check.
        .layer(middleware::from_fn_with_state((state.clone(), identity), identity::resolve))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(csrf, csrf::check_origin))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(settings.request_body_limit_bytes))
        .with_state(state)
        .merge(webhook_routes)
        .merge(acme_routes)
        .merge(sandbox_routes)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_seconds),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(metrics::track))
        .layer(CatchPanicLayer::custom(panic::internal_error_page))
}
