//! What payment intents and setup intents share: confirmation with a card (on or off session),
//! 3-D Secure as a `redirect_to_url` next action answered on the sandbox's challenge page, and
//! the events of each outcome. The two differ in names (`last_payment_error` /
//! `last_setup_error`, `payment_intent.*` / `setup_intent.*`) and in what success means (money
//! received / a card saved to the customer).

use axum::Json;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Caller, answer, events, payment_methods, sandbox_base};
use crate::{
    Sandbox,
    cards::Behaviour,
    error::ApiError,
    params::{Params, apply_metadata},
    store::new_id,
};

/// Which intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Payment,
    Setup,
}

impl Kind {
    pub fn object(self) -> &'static str {
        match self {
            Self::Payment => "payment_intent",
            Self::Setup => "setup_intent",
        }
    }

    fn error_field(self) -> &'static str {
        match self {
            Self::Payment => "last_payment_error",
            Self::Setup => "last_setup_error",
        }
    }

    fn failed_event(self) -> &'static str {
        match self {
            Self::Payment => "payment_intent.payment_failed",
            Self::Setup => "setup_intent.setup_failed",
        }
    }

    pub(super) fn authentication_failure(self) -> &'static str {
        match self {
            Self::Payment => "payment_intent_authentication_failure",
            Self::Setup => "setup_intent_authentication_failure",
        }
    }
}

/// A new intent of `kind` from Stripe's sample of it: its id, client secret and time.
pub fn new_intent(sandbox: &Sandbox, kind: Kind) -> Value {
    let (template, prefix) = match kind {
        Kind::Payment => (include_str!("../templates/payment_intent.json"), "pi"),
        Kind::Setup => (include_str!("../templates/setup_intent.json"), "seti"),
    };
    let mut intent: Value = serde_json::from_str(template).unwrap_or_default();
    let id = new_id(prefix);
    intent["client_secret"] = format!("{id}_secret_{}", new_id("s").trim_start_matches("s_")).into();
    intent["id"] = id.into();
    intent["created"] = sandbox.now().into();
    intent
}

/// The creation parameters both intents take: `customer`, `payment_method` (then
/// `requires_confirmation`), `payment_method_types` (cards only), `automatic_payment_methods`,
/// `description`, `metadata`.
pub async fn take_common(sandbox: &Sandbox, intent: &mut Value, params: &mut Params) -> Result<(), ApiError> {
    if let Some(customer) = params.string("customer")? {
        intent["customer"] = sandbox.store.get("customer", &customer, "customer").await?["id"].clone();
    }
    if let Some(method) = params.string("payment_method")? {
        intent["payment_method"] = payment_methods::resolve(sandbox, &method, "payment_method").await?["id"].clone();
        intent["status"] = "requires_confirmation".into();
    }
    if let Some(types) = params.strings("payment_method_types")?
        && types.iter().any(|t| t != "card")
    {
        return Err(ApiError::invalid_param("payment_method_types", "The sandbox offers cards only.".into()));
    }
    if let Some(mut automatic) = params.object("automatic_payment_methods")? {
        let enabled = automatic.boolean("enabled")?.unwrap_or(false);
        automatic.one_of("allow_redirects", &["always", "never"])?;
        automatic.finish()?;
        intent["automatic_payment_methods"] = json!({ "allow_redirects": "always", "enabled": enabled });
    }
    if let Some(description) = params.string("description")? {
        intent["description"] = description.into();
    }
    if let Some(update) = params.metadata()? {
        apply_metadata(&mut intent["metadata"], update);
    }
    Ok(())
}

/// The intent `id`; with a publishable key only together with its client secret.
async fn load(sandbox: &Sandbox, kind: Kind, caller: Caller, id: &str, params: &mut Params) -> Result<Value, ApiError> {
    let given = params.string("client_secret")?;
    let intent = sandbox.store.get(kind.object(), id, "intent").await?;
    caller.check_client_secret(&intent, given.as_deref())?;
    Ok(intent)
}

/// `GET /v1/{payment,setup}_intents/{id}`.
pub async fn retrieve(
    sandbox: &Sandbox,
    kind: Kind,
    caller: Caller,
    id: &str,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let intent = load(sandbox, kind, caller, id, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    answer(sandbox, intent, &paths).await
}

/// `POST /v1/{payment,setup}_intents/{id}/confirm` (`off_session` for payments only).
pub async fn confirm_request(
    sandbox: &Sandbox,
    kind: Kind,
    caller: Caller,
    headers: &HeaderMap,
    id: &str,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut intent = load(sandbox, kind, caller, id, &mut params).await?;
    if let Some(method) = params.string("payment_method")? {
        intent["payment_method"] = payment_methods::resolve(sandbox, &method, "payment_method").await?["id"].clone();
    }
    let off_session = if kind == Kind::Payment { params.boolean("off_session")?.unwrap_or(false) } else { false };
    let return_url = params.string("return_url")?;
    let paths = params.expand()?;
    params.finish()?;
    let status = intent["status"].as_str().unwrap_or_default();
    if !["requires_payment_method", "requires_confirmation", "requires_action"].contains(&status) {
        let name = if kind == Kind::Payment { "PaymentIntent" } else { "SetupIntent" };
        return Err(ApiError::invalid(format!("You cannot confirm this {name} because it has a status of {status}.")));
    }
    let base = sandbox_base(headers);
    confirm(sandbox, kind, &mut intent, Confirmation { off_session, return_url, sandbox_base: &base }).await?;
    answer(sandbox, intent, &paths).await
}

/// How a confirmation is asked for.
pub struct Confirmation<'a> {
    pub off_session: bool,
    pub return_url: Option<String>,
    /// Where the challenge page is reached (`http://HOST/sandbox/stripe`).
    pub sandbox_base: &'a str,
}

/// Whether this intent keeps the card for later (a setup, or a payment with `setup_future_usage`).
fn saves_card(kind: Kind, intent: &Value) -> bool {
    kind == Kind::Setup || !intent["setup_future_usage"].is_null()
}

/// Confirms `intent` with its payment method: succeeded, requires_action (3-D Secure), or a card
/// error (the intent is stored as failed and returned inside the error, as Stripe does).
pub async fn confirm(sandbox: &Sandbox, kind: Kind, intent: &mut Value, how: Confirmation<'_>) -> Result<(), ApiError> {
    let method_id = intent["payment_method"].as_str().map(str::to_owned).ok_or_else(|| {
        ApiError::invalid(format!(
            "You cannot confirm this {} because it's missing a payment method.",
            kind.object().replace('_', " ")
        ))
    })?;
    let method = sandbox.store.get("payment_method", &method_id, "payment_method").await?;
    intent["status"] = "processing".into();
    let needs_authentication = match payment_methods::behaviour(&method) {
        Behaviour::Succeeds => false,
        Behaviour::AuthenticateOnce => {
            !(how.off_session && payment_methods::authenticated(sandbox, &method_id).await?)
        }
        Behaviour::AlwaysAuthenticate => true,
        Behaviour::Declined { setup_fails: false, .. } if kind == Kind::Setup => false,
        Behaviour::Declined { decline_code, .. } => {
            return fail(sandbox, kind, intent, ApiError::card("card_declined", Some(decline_code), None)).await;
        }
    };
    if needs_authentication && how.off_session {
        let error = ApiError::card("authentication_required", Some("authentication_required"), None);
        return fail(sandbox, kind, intent, error).await;
    }
    if needs_authentication {
        return require_action(sandbox, kind, intent, how.sandbox_base, how.return_url).await;
    }
    succeed(sandbox, kind, intent, false).await
}

/// The intent waits for the customer to pass 3-D Secure on the sandbox's challenge page.
pub async fn require_action(
    sandbox: &Sandbox,
    kind: Kind,
    intent: &mut Value,
    sandbox_base: &str,
    return_url: Option<String>,
) -> Result<(), ApiError> {
    let url = format!(
        "{}/challenge/{}?client_secret={}",
        sandbox_base,
        intent["id"].as_str().unwrap_or_default(),
        intent["client_secret"].as_str().unwrap_or_default()
    );
    intent["status"] = "requires_action".into();
    intent["next_action"] = json!({
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": url,
            "return_url": return_url,
        },
    });
    sandbox.store.update(intent).await?;
    let event = format!("{}.requires_action", kind.object());
    events::record(sandbox, &event, intent, None).await?;
    if kind == Kind::Payment {
        super::invoices::on_intent(sandbox, intent).await?;
    }
    Ok(())
}

/// The intent succeeded (after 3-D Secure when `authenticated`).
pub(super) async fn succeed(
    sandbox: &Sandbox,
    kind: Kind,
    intent: &mut Value,
    authenticated: bool,
) -> Result<(), ApiError> {
    let method_id = intent["payment_method"].as_str().unwrap_or_default().to_owned();
    if saves_card(kind, intent)
        && let Some(customer) = intent["customer"].as_str().map(str::to_owned)
    {
        let mut method = sandbox.store.get("payment_method", &method_id, "payment_method").await?;
        payment_methods::attach(sandbox, &mut method, &customer).await?;
        if authenticated {
            payment_methods::remember_authentication(sandbox, &method_id).await?;
        }
    }
    intent["status"] = "succeeded".into();
    intent["next_action"] = Value::Null;
    intent[kind.error_field()] = Value::Null;
    if kind == Kind::Payment {
        intent["amount_received"] = intent["amount"].clone();
    }
    sandbox.store.update(intent).await?;
    events::record(sandbox, &format!("{}.succeeded", kind.object()), intent, None).await?;
    if kind == Kind::Payment {
        super::invoices::on_intent(sandbox, intent).await?;
    }
    Ok(())
}

/// The intent failed with `error`: stored as `requires_payment_method` with the error, and the
/// error returned with the intent inside.
pub(super) async fn fail(
    sandbox: &Sandbox,
    kind: Kind,
    intent: &mut Value,
    mut error: ApiError,
) -> Result<(), ApiError> {
    intent["status"] = "requires_payment_method".into();
    intent["next_action"] = Value::Null;
    let mut last_error = serde_json::to_value(&error).unwrap_or_default();
    last_error["payment_method"] =
        sandbox.store.find(intent["payment_method"].as_str().unwrap_or_default()).await?.into();
    intent[kind.error_field()] = last_error;
    intent["payment_method"] = Value::Null;
    sandbox.store.update(intent).await?;
    events::record(sandbox, kind.failed_event(), intent, None).await?;
    if kind == Kind::Payment {
        super::invoices::on_intent(sandbox, intent).await?;
    }
    match kind {
        Kind::Payment => error.payment_intent = Some(Box::new(intent.clone())),
        Kind::Setup => error.setup_intent = Some(Box::new(intent.clone())),
    }
    Err(error)
}
