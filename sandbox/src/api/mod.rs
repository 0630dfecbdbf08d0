//! The HTTP face of the sandbox: Stripe's `/v1/...` routes, key check, idempotency, request ids,
//! and the pieces every endpoint shares (lists, `expand[]`, events).

mod challenge;
mod customers;
mod events;
mod hosted_invoice;
mod idempotency;
mod intents;
mod invoices;
mod payment_intents;
mod payment_methods;
mod prices;
mod products;
pub(crate) mod renewals;
mod setup_intents;
mod stripe_js;
mod subscription_changes;
mod subscription_update;
mod subscriptions;
pub(crate) mod test_clocks;

use axum::{
    Json, Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use http::{HeaderMap, HeaderValue, Method, header};
use serde_json::{Value, json};

pub use events::API_VERSION;

use crate::{Sandbox, error::ApiError, params::Params, store::new_id};

/// The routes, relative to the mount point (`/sandbox/stripe`).
pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/v1/customers", get(customers::list).post(customers::create))
        .route("/v1/customers/{id}", get(customers::retrieve).post(customers::update))
        .route("/v1/products", get(products::list).post(products::create))
        .route("/v1/products/{id}", get(products::retrieve).post(products::update))
        .route("/v1/prices", get(prices::list).post(prices::create))
        .route("/v1/prices/{id}", get(prices::retrieve).post(prices::update))
        .route("/v1/customers/{id}/payment_methods", get(payment_methods::list_of_customer))
        .route("/v1/payment_methods", get(payment_methods::list).post(payment_methods::create))
        .route("/v1/payment_methods/{id}", get(payment_methods::retrieve))
        .route("/v1/payment_methods/{id}/attach", post(payment_methods::attach_to))
        .route("/v1/payment_methods/{id}/detach", post(payment_methods::detach))
        .route("/v1/payment_intents", get(payment_intents::list).post(payment_intents::create))
        .route("/v1/payment_intents/{id}", get(payment_intents::retrieve))
        .route("/v1/payment_intents/{id}/confirm", post(payment_intents::confirm))
        .route("/v1/payment_intents/{id}/cancel", post(payment_intents::cancel))
        .route("/v1/setup_intents", post(setup_intents::create))
        .route("/v1/setup_intents/{id}", get(setup_intents::retrieve))
        .route("/v1/setup_intents/{id}/confirm", post(setup_intents::confirm))
        .route("/v1/setup_intents/{id}/cancel", post(setup_intents::cancel))
        .route("/v1/subscriptions", get(subscriptions::list).post(subscriptions::create))
        .route(
            "/v1/subscriptions/{id}",
            get(subscriptions::retrieve).post(subscription_update::update).delete(subscription_update::cancel),
        )
        .route("/v1/invoices", get(invoices::list))
        .route("/v1/invoices/create_preview", post(subscription_changes::preview))
        .route("/v1/invoices/{id}", get(invoices::retrieve))
        .route("/v1/test_helpers/test_clocks", get(test_clocks::list).post(test_clocks::create))
        .route("/v1/test_helpers/test_clocks/{id}", get(test_clocks::retrieve).delete(test_clocks::delete))
        .route("/v1/test_helpers/test_clocks/{id}/advance", post(test_clocks::advance))
        .route("/v1/events", get(events::list))
        .route("/v1/events/{id}", get(events::retrieve))
        .fallback(unrecognized)
        .layer(middleware::from_fn_with_state(sandbox.clone(), idempotency::replay_or_record))
        .layer(middleware::from_fn_with_state(sandbox.clone(), authenticate))
        // The 3-D Secure page is a browser page: no API key, the client secret is the credential.
        .merge(
            Router::new()
                .route("/challenge/{id}", get(challenge::page).post(challenge::answer))
                .route("/invoices/{id}", get(hosted_invoice::page))
                .route("/js/v3", get(stripe_js::script))
                .route("/js/try", get(stripe_js::try_page)),
        )
        .layer(middleware::from_fn(stamp))
        .with_state(sandbox)
}

/// Who is calling: the secret key (everything), or the publishable key (what Stripe.js does:
/// create a card, read and confirm an intent with its client secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Secret,
    Publishable,
}

impl Caller {
    /// With a publishable key, an intent is reachable only with its client secret.
    pub fn check_client_secret(self, intent: &Value, given: Option<&str>) -> Result<(), ApiError> {
        match (self, given) {
            (Self::Secret, None) => Ok(()),
            (_, Some(given)) if intent["client_secret"] == given => Ok(()),
            (_, Some(_)) => {
                Err(ApiError::invalid_param("client_secret", "The client secret does not match this intent.".into()))
            }
            (Self::Publishable, None) => Err(ApiError::missing_param("client_secret")),
        }
    }
}

/// What a publishable key may call, as with Stripe.
fn publishable_may(method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        (method.as_str(), segments.as_slice()),
        ("POST", ["v1", "payment_methods"])
            | ("GET", ["v1", "payment_intents" | "setup_intents", _])
            | ("POST", ["v1", "payment_intents" | "setup_intents", _, "confirm"])
    )
}

/// `http://HOST/sandbox/stripe` as the caller reached it (for links the browser follows).
pub fn sandbox_base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}/sandbox/stripe")
}

async fn unrecognized(request: Request) -> ApiError {
    ApiError::unrecognized_url(request.method().as_str(), request.uri().path())
}

/// Every answer carries a `Request-Id`, as Stripe's do, and an error names the request in its
/// `request_log_url` (where Stripe's dashboard shows it), which is how SDKs report it.
async fn stamp(request: Request, next: Next) -> Response {
    let id = new_id("req");
    let mut response = next.run(request).await;
    if response.status().is_client_error() || response.status().is_server_error() {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
        let body = match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut error) if error["error"].is_object() => {
                error["error"]["request_log_url"] = format!("https://dashboard.stripe.com/test/logs/{id}").into();
                axum::body::Body::from(error.to_string())
            }
            _ => axum::body::Body::from(bytes),
        };
        response = Response::from_parts(parts, body);
        response.headers_mut().remove(header::CONTENT_LENGTH);
    }
    if let Ok(id) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("request-id", id);
    }
    response
}

/// Stripe's key check: `Authorization: Bearer sk_...` (the SDKs) or HTTP Basic with the key as
/// the user name (`curl -u sk_...:`). Anything else is 401 with Stripe's messages.
async fn authenticate(State(sandbox): State<Sandbox>, mut request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::trim);
    let key = given.and_then(|value| {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some(token.trim().to_owned());
        }
        let encoded = value.strip_prefix("Basic ")?;
        let decoded = base64_decode(encoded.trim())?;
        Some(decoded.split(':').next().unwrap_or_default().to_owned())
    });
    match key {
        None => ApiError::unauthenticated(
            "You did not provide an API key. You need to provide your API key in the Authorization header, \
             using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                .into(),
        )
        .into_response(),
        Some(key) if constant_time_eq(key.as_bytes(), sandbox.keys.secret.as_bytes()) => {
            if sandbox.outage() {
                return ApiError::outage().into_response();
            }
            request.extensions_mut().insert(Caller::Secret);
            next.run(request).await
        }
        Some(key) if constant_time_eq(key.as_bytes(), sandbox.keys.publishable.as_bytes()) => {
            if !publishable_may(request.method(), request.uri().path()) {
                return ApiError::secret_key_required().into_response();
            }
            request.extensions_mut().insert(Caller::Publishable);
            next.run(request).await
        }
        Some(key) => {
            let shown = key.get(key.len().saturating_sub(4)..).unwrap_or_default();
            ApiError::unauthenticated(format!("Invalid API Key provided: ****{shown}")).into_response()
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// Text for an HTML page the sandbox writes (attribute values included).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A Basic credential's text; None if it is not base64 UTF-8.
fn base64_decode(encoded: &str) -> Option<String> {
    use base64::Engine;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).ok()?).ok()
}

/// Stripe's list envelope.
pub fn list_response(url: &str, data: Vec<Value>, has_more: bool) -> Json<Value> {
    Json(json!({ "object": "list", "data": data, "has_more": has_more, "url": url }))
}

/// The answer with `object`: the ids named by `expand[]` replaced by their objects, and invoices'
/// confirmation secrets only where asked for.
pub async fn answer(sandbox: &Sandbox, mut object: Value, paths: &[String]) -> Result<Json<Value>, ApiError> {
    expand(sandbox, &mut object, paths).await?;
    invoices::hide_confirmation_secrets(&mut object, paths);
    Ok(Json(object))
}

/// `GET /v1/<kind>s/{id}` for a kind with nothing more to it than `expand[]`.
pub async fn retrieve_object(
    sandbox: &Sandbox,
    kind: &str,
    id: &str,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let paths = params.expand()?;
    params.finish()?;
    let object = sandbox.store.get(kind, id, "id").await?;
    answer(sandbox, object, &paths).await
}

/// One page of the `kind` objects that `keep` accepts, as Stripe's list at `url`.
pub async fn list_page(
    sandbox: &Sandbox,
    kind: &str,
    url: &str,
    page: &crate::store::Page,
    paths: &[String],
    keep: impl Fn(&Value) -> bool,
) -> Result<Json<Value>, ApiError> {
    let (data, has_more) = sandbox.store.list(kind, page, keep).await?;
    answer(sandbox, list_response(url, data, has_more).0, paths).await
}

/// Replaces each id named by an `expand[]` path (`invoice_settings.default_payment_method`,
/// `latest_invoice.confirmation_secret`, `data.customer` in lists) by the object it names.
pub async fn expand(sandbox: &Sandbox, object: &mut Value, paths: &[String]) -> Result<(), ApiError> {
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.len() > 4 {
            return Err(ApiError::invalid_param(
                "expand",
                "You cannot expand more than 4 levels of a property.".into(),
            ));
        }
        expand_path(sandbox, object, &segments, path).await?;
    }
    Ok(())
}

async fn expand_path(sandbox: &Sandbox, object: &mut Value, segments: &[&str], path: &str) -> Result<(), ApiError> {
    let mut current = object;
    for (depth, segment) in segments.iter().enumerate() {
        if *segment == "data"
            && let Some(items) = current.get_mut("data").and_then(Value::as_array_mut)
        {
            for item in items {
                Box::pin(expand_path(sandbox, item, &segments[depth + 1..], path)).await?;
            }
            return Ok(());
        }
        let field = current
            .get_mut(*segment)
            .ok_or_else(|| ApiError::invalid_param("expand", format!("This property cannot be expanded ({path}).")))?;
        if let Some(id) = field.as_str().map(str::to_owned) {
            *field = sandbox.store.find(&id).await?.unwrap_or(Value::String(id));
        }
        current = field;
    }
    Ok(())
}
