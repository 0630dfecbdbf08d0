//! Whether this web node serves the offline Stripe sandbox (`billhook-sandbox`) at
//! `/sandbox/stripe`, and opening it.
//!
//! The sandbox stands in for Stripe only when no Stripe key is configured. It hands out paid
//! features for test cards, so a server whose public URL is not a local address refuses to start
//! with it unless `BILLHOOK_SANDBOX=on` says that is meant (a demo on a shared host).

use anyhow::Context;
use billhook_core::{Db, stripe_api::StripeApi};
use billhook_sandbox::{DeliveryOptions, Sandbox};
use secrecy::ExposeSecret;

use crate::config::{SandboxSwitch, Settings};

/// How long one call to Stripe (or the sandbox) may take.
const STRIPE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the sandbox is mounted.
pub const MOUNT: &str = "/sandbox/stripe";

/// True when `url`'s host is this machine (`localhost`, loopback addresses).
fn is_local(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether to run the sandbox, or why this configuration cannot start.
pub fn wanted(settings: &Settings) -> anyhow::Result<bool> {
    if settings.stripe_secret_key.is_some() {
        anyhow::ensure!(
            settings.sandbox != Some(SandboxSwitch::On),
            "BILLHOOK_SANDBOX=on and BILLHOOK_STRIPE_SECRET_KEY are both set: the sandbox stands in for Stripe \
             only when no Stripe key is configured"
        );
        return Ok(false);
    }
    match (settings.sandbox, &settings.public_url) {
        (Some(SandboxSwitch::Off), _) => Ok(false),
        (Some(SandboxSwitch::On), _) | (None, None) => Ok(true),
        (None, Some(url)) if is_local(url) => Ok(true),
        (None, Some(url)) => anyhow::bail!(
            "no BILLHOOK_STRIPE_SECRET_KEY is set, so the offline Stripe sandbox would serve payments at {url}, which is \
             not a local address; set the Stripe key, or BILLHOOK_SANDBOX=on if a sandbox there is meant \
             (test cards then unlock paid features), or BILLHOOK_SANDBOX=off"
        ),
    }
}

/// Where this node delivers the sandbox's events: its own webhook endpoint (the public URL when
/// one is set, else the address it listens on - loopback when it listens on every address).
pub fn delivery_options(settings: &Settings, listening: std::net::SocketAddr) -> DeliveryOptions {
    DeliveryOptions {
        endpoint: format!("{}/webhooks/stripe", site_base(settings, listening)),
        shuffle_and_duplicate: settings.sandbox_shuffle_deliveries,
    }
}

/// This node as a browser or the node itself reaches it: the public URL when one is set, else
/// the address it listens on (loopback when it listens on every address).
pub fn site_base(settings: &Settings, listening: std::net::SocketAddr) -> String {
    match &settings.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None if listening.ip().is_unspecified() => format!("http://127.0.0.1:{}", listening.port()),
        None => format!("http://{listening}"),
    }
}

/// Billhook's Stripe client: Stripe's API with `BILLHOOK_STRIPE_SECRET_KEY`, else the sandbox
/// with its secret key (kept in the database, so any node reads it) at the web nodes' address
/// (`BILLHOOK_PUBLIC_URL`, else this node's `LEPTOS_SITE_ADDR`: in a cluster whose workers serve no
/// web, set the public URL). None: no key and the sandbox is off.
pub async fn stripe_api(
    settings: &Settings,
    db: &Db,
    site_addr: std::net::SocketAddr,
) -> anyhow::Result<Option<StripeApi>> {
    if let Some(key) = &settings.stripe_secret_key {
        let api = StripeApi::new(key.expose_secret(), &settings.stripe_api_base, STRIPE_TIMEOUT)
            .context("BILLHOOK_STRIPE_SECRET_KEY / BILLHOOK_STRIPE_API_BASE")?;
        return Ok(Some(api));
    }
    let Some(sandbox) = open(settings, db).await? else { return Ok(None) };
    let base = format!("{}{MOUNT}", site_base(settings, site_addr));
    let api =
        StripeApi::new(&sandbox.keys().secret, &base, STRIPE_TIMEOUT).context("a Stripe client for the sandbox")?;
    Ok(Some(api.with_test_clocks()))
}

/// [`stripe_api`] for a command that runs outside `serve`: with no Stripe key, this process
/// serves the sandbox on a loopback port of its own (same database, so the web nodes see what it
/// did) until `shutdown` is cancelled.
pub async fn stripe_api_in_process(
    settings: &Settings,
    db: &Db,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Option<StripeApi>> {
    if settings.stripe_secret_key.is_some() {
        return stripe_api(settings, db, std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await;
    }
    let Some(sandbox) = open(settings, db).await? else { return Ok(None) };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("a loopback port for the sandbox")?;
    let base = format!("http://{}{MOUNT}", listener.local_addr()?);
    let api = StripeApi::new(&sandbox.keys().secret, &base, STRIPE_TIMEOUT)
        .context("a Stripe client for the sandbox")?
        .with_test_clocks();
    let router = axum::Router::new().nest(MOUNT, sandbox.router());
    tokio::spawn(async move {
        let served = axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the in-process sandbox stopped");
        }
    });
    Ok(Some(api))
}

/// Opens the sandbox when [`wanted`].
pub async fn open(settings: &Settings, db: &Db) -> anyhow::Result<Option<Sandbox>> {
    if !wanted(settings)? {
        return Ok(None);
    }
    let configured = match (&settings.sandbox_secret_key, &settings.sandbox_publishable_key) {
        (Some(secret), Some(publishable)) => Some((secret.expose_secret().to_owned(), publishable.clone())),
        (None, None) => None,
        _ => anyhow::bail!("set both BILLHOOK_SANDBOX_SECRET_KEY and BILLHOOK_SANDBOX_PUBLISHABLE_KEY, or neither"),
    };
    let sandbox = Sandbox::open(db.clone(), configured).await.context("opening the Stripe sandbox")?;
    Ok(Some(sandbox))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(public_url: Option<&str>, sandbox: Option<SandboxSwitch>, stripe_key: bool) -> Settings {
        Settings {
            public_url: public_url.map(|u| u.parse().unwrap()),
            sandbox,
            stripe_secret_key: stripe_key.then(|| "sk_live_x".into()),
            ..Settings::default()
        }
    }

    #[test]
    fn the_sandbox_runs_locally_without_a_stripe_key() {
        assert!(wanted(&with(None, None, false)).unwrap());
        assert!(wanted(&with(Some("http://127.0.0.1:3000"), None, false)).unwrap());
        assert!(wanted(&with(Some("http://localhost:3000"), None, false)).unwrap());
        assert!(!wanted(&with(None, Some(SandboxSwitch::Off), false)).unwrap());
        assert!(!wanted(&with(None, None, true)).unwrap(), "a Stripe key means Stripe");
    }

    #[test]
    fn a_public_server_needs_the_sandbox_asked_for() {
        let error = wanted(&with(Some("https://billing.example.com"), None, false)).unwrap_err();
        assert!(error.to_string().contains("BILLHOOK_SANDBOX=on"), "{error}");
        assert!(wanted(&with(Some("https://billing.example.com"), Some(SandboxSwitch::On), false)).unwrap());
        assert!(wanted(&with(None, Some(SandboxSwitch::On), true)).is_err(), "on + a Stripe key is a contradiction");
    }
}
