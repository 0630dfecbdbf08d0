//! The one application state, shared by axum handlers and (as Leptos context) server functions.

use axum::extract::FromRef;
use billhook_core::{
    Db,
    accounts::Accounts,
    webhooks::{RefusedDeliveries, WebhookInbox, WebhookVerifier},
};
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub accounts: Accounts,
    pub webhooks: Webhooks,
    /// The offline Stripe sandbox, when this web node serves it (no Stripe key configured).
    pub sandbox: Option<billhook_sandbox::Sandbox>,
}

/// What the webhook endpoint needs.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub verifier: WebhookVerifier,
    pub inbox: WebhookInbox,
    pub refused: RefusedDeliveries,
}
