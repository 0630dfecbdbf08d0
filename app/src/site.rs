//! What every page shows about this server itself: whether the offline Stripe sandbox stands in
//! for Stripe (no real payments are taken). Computed on the server and serialised into the page,
//! like the signed-in account, so hydration sees what the server rendered.

use leptos::prelude::*;

/// Context: the sandbox is active on this server.
#[derive(Debug, Clone, Copy)]
pub struct SandboxActive(pub bool);

pub fn provide_site_info() {
    let shared = leptos::server::SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<crate::AppState>().is_some_and(|state| state.sandbox.is_some())
        }
        #[cfg(not(feature = "ssr"))]
        {
            false
        }
    });
    provide_context(SandboxActive(shared.into_inner()));
}

/// True while the offline Stripe sandbox is active.
pub fn sandbox_active() -> bool {
    use_context::<SandboxActive>().is_some_and(|s| s.0)
}

/// The label every page carries while the sandbox is active.
#[component]
pub fn SandboxLabel() -> impl IntoView {
    sandbox_active().then(|| {
        view! {
            <span
                class="sandbox-label"
                data-testid="sandbox-label"
                title="No Stripe key is configured: payments go to Billhook's offline Stripe sandbox and nothing is charged."
            >
                "Sandbox"
            </span>
        }
    })
}
