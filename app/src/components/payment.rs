//! The payment form: Stripe's Payment Element for one PaymentIntent or SetupIntent, mounted from
//! its client secret, and its confirmation - 3-D Secure when the bank asks, then back to
//! `return_to` with Stripe's query parameters. The page code is the same with Stripe's own
//! Stripe.js (real keys) and with the offline sandbox's stand-in: only the script URL and the
//! publishable key differ, and both come from the server with the intent.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the browser needs to confirm one intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    /// Where Stripe.js is loaded from.
    pub script_url: String,
    pub publishable_key: String,
    /// The intent's client secret (`pi_..._secret_...` or `seti_..._secret_...`).
    pub client_secret: String,
}

impl Checkout {
    /// True for a SetupIntent (saving a card), false for a PaymentIntent (paying).
    pub fn saves_a_card(&self) -> bool {
        self.client_secret.starts_with("seti_")
    }
}

#[cfg(feature = "hydrate")]
mod stripe_js {
    use wasm_bindgen::prelude::*;

    // Loads Stripe.js once, mounts the Payment Element, and confirms with Stripe.js's own calls.
    // Each function resolves to an error message for the customer, or "" when all went well
    // (confirming redirects the page, to the challenge or to the return URL).
    #[wasm_bindgen(inline_js = r#"
        let loading = null, stripe = null, elements = null;
        function load(url) {
            if (window.Stripe) return Promise.resolve();
            if (!loading) {
                loading = new Promise((resolve, reject) => {
                    const script = document.createElement("script");
                    script.src = url;
                    script.onload = () => resolve();
                    script.onerror = () => { loading = null; reject(new Error("Stripe.js could not be loaded.")); };
                    document.head.appendChild(script);
                });
            }
            return loading;
        }
        export async function mount_payment(url, key, secret, target) {
            try {
                await load(url);
                stripe = window.Stripe(key);
                elements = stripe.elements({ clientSecret: secret });
                elements.create("payment").mount(target);
                return "";
            } catch (e) {
                return "The payment form could not be shown: " + e.message;
            }
        }
        export async function confirm_payment(setup, return_to) {
            if (!stripe || !elements) return "The payment form is not ready yet.";
            const submitted = await elements.submit();
            if (submitted.error) return submitted.error.message;
            const confirmParams = { return_url: new URL(return_to, window.location.href).href };
            const result = setup
                ? await stripe.confirmSetup({ elements, confirmParams })
                : await stripe.confirmPayment({ elements, confirmParams });
            return result.error ? result.error.message : "";
        }
        export async function authenticate(url, key, secret, return_to) {
            try {
                await load(url);
                stripe = stripe || window.Stripe(key);
                const result = await stripe.handleNextAction({ clientSecret: secret });
                if (result.error) return result.error.message;
                window.location.assign(new URL(return_to, window.location.href).href);
                return "";
            } catch (e) {
                return "Your bank's check could not be opened: " + e.message;
            }
        }
    "#)]
    extern "C" {
        pub async fn mount_payment(url: &str, key: &str, secret: &str, target: &str) -> JsValue;
        pub async fn confirm_payment(setup: bool, return_to: &str) -> JsValue;
        pub async fn authenticate(url: &str, key: &str, secret: &str, return_to: &str) -> JsValue;
    }
}

/// A button that opens the bank's check (3-D Secure) for a payment that waits for it, with
/// Stripe.js's `handleNextAction`; once it is done the browser goes to `return_to`, which reads
/// the outcome from Stripe. A failed check is told in place.
#[component]
pub fn AuthenticateButton(checkout: Checkout, return_to: String) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let click = move |_| {
        busy.set(true);
        error.set(None);
        #[cfg(feature = "hydrate")]
        {
            let (checkout, return_to) = (checkout.clone(), return_to.clone());
            leptos::task::spawn_local(async move {
                let message = stripe_js::authenticate(
                    &checkout.script_url,
                    &checkout.publishable_key,
                    &checkout.client_secret,
                    &return_to,
                )
                .await
                .as_string()
                .unwrap_or_default();
                if !message.is_empty() {
                    error.set(Some(message));
                }
                busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&checkout, &return_to);
    };
    view! {
        <div class="payment-form">
            <noscript><p class="error">"Confirming a payment with your bank needs JavaScript."</p></noscript>
            {move || error.get().map(|message| view! { <p class="error" role="alert" data-testid="payment-error">{message}</p> })}
            <button type="button" data-testid="authenticate" on:click=click disabled=move || busy.get()>
                {move || if busy.get() { "Waiting for your bank..." } else { "Confirm the payment" }}
            </button>
        </div>
    }
}

/// The Payment Element for `checkout`, with a submit button labelled `button`; on success the
/// browser goes to `return_to` (Stripe adds its query parameters).
#[component]
pub fn PaymentForm(checkout: Checkout, return_to: String, button: &'static str) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let setup = checkout.saves_a_card();

    #[cfg(feature = "hydrate")]
    {
        let checkout = checkout.clone();
        Effect::new(move |mounted: Option<()>| {
            if mounted.is_none() {
                let checkout = checkout.clone();
                leptos::task::spawn_local(async move {
                    let message = stripe_js::mount_payment(
                        &checkout.script_url,
                        &checkout.publishable_key,
                        &checkout.client_secret,
                        "#payment-element",
                    )
                    .await
                    .as_string()
                    .unwrap_or_default();
                    if message.is_empty() {
                        ready.set(true);
                    } else {
                        error.set(Some(message));
                    }
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = &checkout;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        #[cfg(feature = "hydrate")]
        {
            let return_to = return_to.clone();
            leptos::task::spawn_local(async move {
                let message = stripe_js::confirm_payment(setup, &return_to).await.as_string().unwrap_or_default();
                if !message.is_empty() {
                    error.set(Some(message));
                }
                busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&return_to, setup);
    };

    view! {
        <form class="payment-form" on:submit=submit data-testid="payment-form">
            <div id="payment-element" data-testid="payment-element"></div>
            <noscript><p class="error">"Paying by card needs JavaScript (Stripe's secure card form runs in the browser)."</p></noscript>
            {move || error.get().map(|message| view! { <p class="error" role="alert" data-testid="payment-error">{message}</p> })}
            <button type="submit" data-testid="pay" disabled=move || !ready.get() || busy.get()>
                {move || if busy.get() { "Working..." } else { button }}
            </button>
        </form>
    }
}
