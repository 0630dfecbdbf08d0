//! The one application state, shared by axum handlers and (as Leptos context) server functions.

use axum::extract::FromRef;
use billhook_core::{
    Db,
    accounts::Accounts,
    webhooks::{Backlog, RefusedDeliveries, WebhookInbox, WebhookVerifier},
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
    pub billing: Billing,
    pub operations: Operations,
}

/// What the operators' pages know of the cluster besides the database.
#[derive(Clone, Debug)]
pub struct Operations {
    /// The periodic jobs, with the cron expressions the configuration gives them.
    pub schedules: std::sync::Arc<Vec<billhook_core::dashboard::schedules::ScheduleSpec>>,
    /// A node silent for longer is presumed dead: apalis rescues its jobs after as long.
    pub alive_within: std::time::Duration,
}

/// What the billing pages need: Stripe (or the sandbox), the catalogue, and what the browser
/// loads Stripe.js with.
#[derive(Clone, Debug)]
pub struct Billing {
    /// None: no Stripe key and the sandbox off; billing pages say payments are unavailable.
    pub stripe: Option<billhook_core::stripe_api::StripeApi>,
    pub catalogue: std::sync::Arc<billhook_model::Catalogue>,
    pub stripe_js: Option<StripeJs>,
}

impl Billing {
    /// Stripe (or the sandbox), or [`AppError::PaymentsUnavailable`](crate::AppError) when
    /// neither is configured.
    pub fn stripe(&self) -> Result<&billhook_core::stripe_api::StripeApi, crate::AppError> {
        self.stripe.as_ref().ok_or(crate::AppError::PaymentsUnavailable)
    }

    /// What the browser loads Stripe.js with, to confirm an intent with `client_secret`.
    pub fn checkout(&self, client_secret: String) -> Result<crate::components::payment::Checkout, crate::AppError> {
        let js = self.stripe_js.as_ref().ok_or(crate::AppError::PaymentsUnavailable)?;
        Ok(crate::components::payment::Checkout {
            script_url: js.script_url.clone(),
            publishable_key: js.publishable_key.clone(),
            client_secret,
        })
    }
}

/// Where the browser loads Stripe.js from and the publishable key it uses: Stripe's own with a
/// real key, the sandbox's stand-in otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeJs {
    pub script_url: String,
    pub publishable_key: String,
}

/// What the webhook endpoint needs.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub verifier: WebhookVerifier,
    pub inbox: WebhookInbox,
    pub refused: RefusedDeliveries,
    /// Deliveries are refused while the processing backlog is over its bound.
    pub backlog: Backlog,
}
