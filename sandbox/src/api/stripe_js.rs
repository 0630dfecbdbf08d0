//! The Stripe.js stand-in (`/sandbox/stripe/js/v3`, a page loads it where it would load
//! `https://js.stripe.com/v3/`), and a page to try it (`/sandbox/stripe/js/try?client_secret=...`):
//! the Payment Element for one intent, paid or saved with the sandbox's test cards.

use axum::{
    extract::{Query, State},
    http::header,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use super::escape_html;
use crate::{Sandbox, error::ApiError};

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "application/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        include_str!("../js/stripe.js"),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct Try {
    client_secret: String,
}

pub async fn try_page(State(sandbox): State<Sandbox>, Query(query): Query<Try>) -> Response {
    // Only an intent's client secret: it is written into the page's script.
    if query.client_secret.is_empty() || !query.client_secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return ApiError::invalid_param("client_secret", "Not a client secret.".into()).into_response();
    }
    let setup = query.client_secret.starts_with("seti_");
    Html(format!(
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Stripe sandbox - Payment Element</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;margin:.5rem 0}} input{{display:block;width:100%;padding:.4rem;font-size:1rem}}
.sandbox-row{{display:flex;gap:1rem}} .sandbox-field-error{{color:#b42318;margin:.2rem 0;min-height:1em}}</style>
<script src="v3"></script></head>
<body><h1>{title}</h1>
<form id="pay"><div id="payment-element"></div><button type="submit">{action}</button></form>
<p id="result" data-testid="result" role="status"></p>
<script>
const stripe = Stripe("{key}");
const elements = stripe.elements({{ clientSecret: "{secret}" }});
elements.create("payment").mount("#payment-element");
document.getElementById("pay").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const checked = await elements.submit();
  if (checked.error) {{ document.getElementById("result").textContent = checked.error.message; return; }}
  const result = await stripe.{confirm}({{ elements, confirmParams: {{ return_url: location.href }}, redirect: "if_required" }});
  const intent = result.paymentIntent || result.setupIntent;
  document.getElementById("result").textContent = result.error ? result.error.message : intent.status;
}});
</script></body></html>"##,
        title = if setup { "Save a card" } else { "Pay" },
        action = if setup { "Save card" } else { "Pay" },
        confirm = if setup { "confirmSetup" } else { "confirmPayment" },
        key = escape_html(&sandbox.keys.publishable),
        secret = escape_html(&query.client_secret),
    ))
    .into_response()
}
