//! Error pages. On the server each sets its HTTP status before the first byte is sent (the areas
//! that show them render with `SsrMode::Async`, and the 404 comes from the router's fallback).

use http::StatusCode;
use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the status of the page being rendered (server side; nothing in the browser).
pub fn set_status(_status: StatusCode) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(_status);
    }
}

#[component]
fn ErrorPage(status: StatusCode, title: &'static str, children: Children) -> impl IntoView {
    set_status(status);
    view! {
        <Title text=format!("{title} - Billhook") />
        <section class="card narrow error-page">
            <p class="status">{status.as_u16()}</p>
            <h1>{title}</h1>
            {children()}
            <p><a href="/">"Back to the start page"</a></p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <ErrorPage status=StatusCode::NOT_FOUND title="Page not found">
            <p>"There is no page at this address."</p>
        </ErrorPage>
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <ErrorPage status=StatusCode::FORBIDDEN title="Not allowed">
            <p>"Your account may not see this page."</p>
        </ErrorPage>
    }
}

/// Sends a visitor who is not logged in to the log-in page, then back to `next`. On the server
/// this is a real 302 whatever the client accepts; in the browser, a client-side navigation.
#[component]
pub fn LoginRequired(next: String) -> impl IntoView {
    let target = format!("/login?next={next}");
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(StatusCode::FOUND);
        if let Ok(location) = http::HeaderValue::from_str(&target) {
            response.insert_header(http::header::LOCATION, location);
        }
    }
    view! {
        <leptos_router::components::Redirect path=target.clone() />
        <p>"Please " <a href=target>"log in"</a> " first."</p>
    }
}
