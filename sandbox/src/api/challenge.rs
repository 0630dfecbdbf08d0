//! The 3-D Secure challenge page an intent's `next_action.redirect_to_url` leads to, with the
//! buttons of Stripe's own test page: "Complete authentication" and "Fail authentication". It is
//! a browser page, reached without an API key: the intent's client secret is the credential.
//! After the answer, the browser goes to the intent's `return_url` with Stripe's query
//! parameters (`payment_intent`, `payment_intent_client_secret`, `redirect_status`, or the
//! `setup_intent` ones).

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use serde_json::Value;

use super::{
    escape_html,
    intents::{self, Kind},
};
use crate::{Sandbox, error::ApiError};

#[derive(Debug, Deserialize)]
pub struct Secret {
    client_secret: String,
}

#[derive(Debug, Deserialize)]
pub struct Answer {
    client_secret: String,
    result: String,
}

pub async fn page(State(sandbox): State<Sandbox>, Path(id): Path<String>, Query(query): Query<Secret>) -> Response {
    let kind = if id.starts_with("seti_") { "setup_intent" } else { "payment_intent" };
    let intent = match sandbox.store.get(kind, &id, "id").await {
        Ok(intent) if intent["client_secret"] == query.client_secret.as_str() => intent,
        Ok(_) => {
            return ApiError::invalid_param("client_secret", "The client secret does not match.".into())
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let amount = intent["amount"].as_i64().map(|a| {
        format!(" of {}.{:02} {}", a / 100, a % 100, intent["currency"].as_str().unwrap_or_default().to_uppercase())
    });
    let secret = escape_html(&query.client_secret);
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>3D Secure 2 Test Page</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1a1f36}}
button{{font-size:1rem;padding:.6rem 1rem;margin:.25rem;border-radius:6px;border:1px solid #aab;cursor:pointer}}
.complete{{background:#635bff;color:#fff;border-color:#635bff}}</style></head>
<body><h1>3D Secure 2 Test Page</h1>
<p>Billhook's offline Stripe sandbox: authenticate the payment{amount} for intent <code>{id}</code>.</p>
<form method="post"><input type="hidden" name="client_secret" value="{secret}">
<button class="complete" name="result" value="complete">Complete authentication</button>
<button name="result" value="fail">Fail authentication</button></form></body></html>"#,
        amount = amount.unwrap_or_default(),
        id = escape_html(&id),
    ))
    .into_response()
}

pub async fn answer(State(sandbox): State<Sandbox>, Path(id): Path<String>, Form(answer): Form<Answer>) -> Response {
    let passed = match answer.result.as_str() {
        "complete" => true,
        "fail" => false,
        _ => return ApiError::invalid_param("result", "Answer complete or fail.".into()).into_response(),
    };
    let (intent, return_url) = match answer_challenge(&sandbox, &id, &answer.client_secret, passed).await {
        Ok(answered) => answered,
        Err(e) => return e.into_response(),
    };
    let kind = if id.starts_with("seti_") { "setup_intent" } else { "payment_intent" };
    let status = if intent["status"] == "succeeded" { "succeeded" } else { "failed" };
    match return_url.and_then(|url| url::Url::parse(&url).ok()) {
        Some(mut target) => {
            target
                .query_pairs_mut()
                .append_pair(kind, &id)
                .append_pair(&format!("{kind}_client_secret"), &answer.client_secret)
                .append_pair("redirect_status", status);
            Redirect::to(target.as_str()).into_response()
        }
        None => Html(format!("<p data-status=\"{status}\">Authentication {status}. You may close this page.</p>"))
            .into_response(),
    }
}

/// The customer answered the 3-D Secure challenge of intent `id` (checked by its client secret):
/// the intent afterwards, and the `return_url` the confirmation named.
pub async fn answer_challenge(
    sandbox: &Sandbox,
    id: &str,
    client_secret: &str,
    passed: bool,
) -> Result<(Value, Option<String>), ApiError> {
    let kind = if id.starts_with("seti_") { Kind::Setup } else { Kind::Payment };
    let mut intent = sandbox.store.get(kind.object(), id, "id").await?;
    if intent["client_secret"] != client_secret {
        return Err(ApiError::invalid_param("client_secret", "The client secret does not match this intent.".into()));
    }
    let return_url = intent["next_action"]["redirect_to_url"]["return_url"].as_str().map(str::to_owned);
    if intent["status"] != "requires_action" {
        return Ok((intent, return_url));
    }
    if passed {
        intents::succeed(sandbox, kind, &mut intent, true).await?;
    } else {
        let mut error = ApiError::invalid(
            "We are unable to authenticate your payment method. Please choose a different payment method and try again."
                .into(),
        );
        error.code = Some(kind.authentication_failure());
        if let Err(e) = intents::fail(sandbox, kind, &mut intent, error).await {
            tracing::debug!(intent = id, error = %e.message, "3-D Secure failed");
        }
    }
    Ok((intent, return_url))
}
