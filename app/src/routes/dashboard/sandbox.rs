//! The operators' view of the offline Stripe sandbox while it is active: its key pair (what a
//! Stripe SDK or `curl -u` needs to talk to it), where it answers, and a switch that simulates an
//! outage of Stripe's API (the server's calls get 503: jobs that call Stripe fail and wait for
//! their retry, as on a bad day at Stripe).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::Loaded,
        form::{ErrorNote, form_error},
    },
};

/// The sandbox's keys, for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxKeyPair {
    pub api_base: String,
    pub publishable_key: String,
    pub secret_key: String,
    /// The simulated outage is on.
    pub outage: bool,
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
        outage: sandbox.outage(),
    }))
}

/// Switches the simulated outage of Stripe's API on (`on` = "true") or off. Admins only; audited.
#[server(endpoint = "sandbox_outage")]
pub async fn sandbox_outage(on: String) -> Result<(), AppError> {
    use crate::ssr::{finish_form, require_admin, state};
    let result = async {
        let actor = require_admin()?;
        let state = state()?;
        let sandbox = state.sandbox.as_ref().ok_or(AppError::NotFound)?;
        let on = on == "true";
        sandbox.set_outage(on);
        let action = if on { "sandbox.outage_on" } else { "sandbox.outage_off" };
        billhook_core::dashboard::audit::record_one(&state.db, &actor, action, "stripe api").await?;
        Ok(())
    }
    .await;
    finish_form(result, "/admin", "/admin")
}

/// Shown on the operators' page while the sandbox is active.
#[component]
pub fn SandboxControls() -> impl IntoView {
    let outage = ServerAction::<SandboxOutage>::new();
    let keys = Resource::new_blocking(move || outage.version().get(), |_| sandbox_keys());
    view! {
        <ErrorNote message=form_error(move || outage.value().get()) />
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
                    <ActionForm action=outage>
                        <input type="hidden" name="on" value=if keys.outage { "false" } else { "true" } />
                        {if keys.outage {
                            view! {
                                <p class="error" data-testid="sandbox-outage-on">"Simulated outage: Stripe's API answers the server 503."</p>
                                <button type="submit" data-testid="sandbox-outage">"End the outage"</button>
                            }.into_any()
                        } else {
                            view! { <button type="submit" data-testid="sandbox-outage">"Simulate a Stripe outage"</button> }.into_any()
                        }}
                    </ActionForm>
                </section>
            })}
        </Loaded>
    }
}
