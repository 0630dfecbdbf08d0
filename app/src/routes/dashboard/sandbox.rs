//! The operators' view of the offline Stripe sandbox while it is active: its key pair (what a
//! Stripe SDK or `curl -u` needs to talk to it) and where it answers.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{AppError, components::data::Loaded};

/// The sandbox's keys, for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxKeyPair {
    pub api_base: String,
    pub publishable_key: String,
    pub secret_key: String,
}

/// The sandbox's keys, or None when it is not active. Admins only.
#[server(endpoint = "sandbox_keys")]
pub async fn sandbox_keys() -> Result<Option<SandboxKeyPair>, AppError> {
    use crate::ssr::{require_role, state};
    require_role(billhook_model::Role::Admin)?;
    Ok(state()?.sandbox.map(|sandbox| SandboxKeyPair {
        api_base: "/sandbox/stripe".into(),
        publishable_key: sandbox.keys().publishable.clone(),
        secret_key: sandbox.keys().secret.clone(),
    }))
}

/// Shown on the operators' page while the sandbox is active.
#[component]
pub fn SandboxControls() -> impl IntoView {
    let keys = Resource::new_blocking(|| (), |_| sandbox_keys());
    view! {
        <Loaded resource=keys let:keys>
            {keys.map(|keys| view! {
                <section class="card" data-testid="sandbox-controls">
                    <h2>"Stripe sandbox"</h2>
                    <p>"No Stripe key is configured, so Billhook's offline Stripe sandbox answers Stripe's API here. Its keys:"</p>
                    <dl>
                        <dt>"API base"</dt>
                        <dd><code>{keys.api_base}</code></dd>
                        <dt>"Publishable key"</dt>
                        <dd><code data-testid="sandbox-publishable-key">{keys.publishable_key}</code></dd>
                        <dt>"Secret key"</dt>
                        <dd><code data-testid="sandbox-secret-key">{keys.secret_key}</code></dd>
                    </dl>
                </section>
            })}
        </Loaded>
    }
}
