//! Settings: built-in defaults < optional `billhook.toml` (or `BILLHOOK_CONFIG`) < environment
//! (`DATABASE_URL`, `BILLHOOK_*`). The Leptos site options (`LEPTOS_SITE_ADDR`, ...) are read by
//! Leptos itself. README.md has the table of every variable; keep the two in step.

mod services;

use std::path::PathBuf;

use anyhow::Context;
use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://path` (created when missing) or `postgres://...`. May hold a password.
    pub database_url: SecretString,
    pub database_max_connections: u32,
    /// The address users reach Billhook at (`https://billing.example.com`). Used as the only
    /// accepted Origin for state-changing requests; `https` also makes cookies Secure.
    pub public_url: Option<url::Url>,
    /// Force the Secure cookie attribute on or off (default: on when `public_url` is https).
    pub secure_cookies: Option<bool>,
    /// Sessions end after this long without a request.
    pub session_idle_minutes: u64,
    /// How many reverse proxies (each appending to `X-Forwarded-For`) stand in front of Billhook;
    /// the client address is the entry the outermost of them added, counted from the right.
    /// 0 (the default): the header is ignored and the peer address is the client.
    pub trusted_proxies: usize,
    /// The window of the log-in and sign-up limits below.
    pub login_window_seconds: u64,
    /// Failed log-ins to one account from one address (the owner elsewhere is not affected).
    pub login_max_failures_per_account_and_ip: u32,
    /// Failed log-ins from one address, to any accounts.
    pub login_max_failures_per_ip: u32,
    /// Sign-up attempts from one address.
    pub signup_max_per_ip: u32,
    /// Password hashes (Argon2, 19 MiB each) run at once; default half the cores.
    pub password_hashes_at_once: Option<usize>,
    /// A connection that has not sent a whole request header within this many seconds is closed.
    pub header_read_timeout_seconds: u64,
    /// Connections served at once by a web node; more wait in the kernel's queue.
    pub max_connections: usize,
    /// Largest request body accepted by the web role, in bytes.
    pub request_body_limit_bytes: usize,
    /// A request that takes longer is answered 408.
    pub request_timeout_seconds: u64,
    /// On SIGTERM/SIGINT, how long running work may take to finish.
    pub shutdown_timeout_seconds: u64,
    pub log_format: LogFormat,
    /// Comma-separated Stripe endpoint secrets (`whsec_...`); several while rotating.
    pub stripe_webhook_secrets: SecretString,
    /// How far a delivery's signed timestamp may be from now.
    pub stripe_webhook_tolerance_seconds: u64,
    /// Largest webhook body accepted (413 above).
    pub webhook_body_limit_bytes: usize,
    /// Events stored but not yet processed above which deliveries are refused with 503 (Stripe
    /// retries them later); 0: no bound.
    pub webhook_max_backlog: u64,
    /// Inbox writer tasks, each committing its own batches of deliveries; unset: 1 for a database
    /// on this machine, 2 for PostgreSQL across a network (`InboxOptions::for_db`).
    pub webhook_inbox_writers: Option<usize>,
    /// Jobs run at once per queue by each worker process.
    pub worker_concurrency: usize,
    /// Jobs a worker claims per fetch.
    pub worker_batch_size: usize,
    /// Seconds between a worker's heartbeats.
    pub worker_heartbeat_seconds: u64,
    /// Missed heartbeats after which a worker counts as dead and its jobs re-run elsewhere.
    pub worker_missed_heartbeats: usize,
    /// How often an idle worker looks for jobs no wake-up announced, in milliseconds.
    pub worker_poll_interval_ms: u64,
    /// First retry delay of a failed job, doubled per attempt up to the cap.
    pub job_retry_base_seconds: u64,
    pub job_retry_cap_seconds: u64,
    /// SMTP server for outgoing mail (lettre URL syntax); unset: mail stays in the outbox table.
    pub smtp_url: Option<SecretString>,
    /// The From of outgoing mail.
    pub email_from: String,
    /// Cron expressions replacing the built-in ones, by schedule name
    /// (`BILLHOOK_SCHEDULES__DISPATCH_SWEEP="*/10 * * * * *"`, or a `[schedules]` table).
    pub schedules: std::collections::BTreeMap<String, String>,
    /// The ACME directory custom-domain certificates come from.
    pub acme_directory_url: String,
    /// A PEM root certificate to trust for the ACME directory itself (a test CA such as Pebble).
    pub acme_root_certificate: Option<PathBuf>,
    /// Contact address given to the CA for the ACME account.
    pub acme_contact_email: Option<String>,
    /// How long one certificate attempt waits for the CA to validate and issue.
    pub acme_order_timeout_seconds: u64,
    /// Certificates are renewed this many days before they expire.
    pub certificate_renew_before_days: u64,
    /// Stripe secret (or restricted, with read access to events) key; unset: no reconciliation.
    pub stripe_secret_key: Option<SecretString>,
    /// Stripe's API base URL (another for an offline stand-in).
    pub stripe_api_base: String,
    /// Stripe's publishable key (`pk_...`), which the payment pages give Stripe.js; needed with
    /// `stripe_secret_key` (the sandbox has its own).
    pub stripe_publishable_key: Option<String>,
    /// How far back the reconciliation lists events when no recent run succeeded (Stripe keeps 30 days).
    pub stripe_reconcile_lookback_hours: u64,
    /// The offline Stripe sandbox (`/sandbox/stripe`): unset, it runs when no Stripe key is set
    /// and the public URL is local; `on` also for a public URL elsewhere; `off` never.
    pub sandbox: Option<SandboxSwitch>,
    /// The sandbox's key pair (`sk_test_...` / `pk_test_...`); unset: generated once, kept in the database.
    pub sandbox_secret_key: Option<SecretString>,
    pub sandbox_publishable_key: Option<String>,
    /// The sandbox shuffles its webhook deliveries and sends some twice (Stripe guarantees
    /// neither order nor a single delivery; this makes both visible).
    pub sandbox_shuffle_deliveries: bool,
    /// The subscription types on offer with their prices (`[[catalogue]]` tables in
    /// `billhook.toml`, or `BILLHOOK_CATALOGUE` as an inline array); default: Basic and the SSL add-on.
    pub catalogue: billhook_model::Catalogue,
}

/// `BILLHOOK_SANDBOX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxSwitch {
    On,
    Off,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: SecretString::from("sqlite://data/billhook.db"),
            database_max_connections: 16,
            public_url: None,
            secure_cookies: None,
            session_idle_minutes: 60 * 24 * 7,
            trusted_proxies: 0,
            login_window_seconds: 15 * 60,
            login_max_failures_per_account_and_ip: 5,
            login_max_failures_per_ip: 50,
            signup_max_per_ip: 10,
            password_hashes_at_once: None,
            header_read_timeout_seconds: 10,
            max_connections: 4096,
            request_body_limit_bytes: 2 * 1024 * 1024,
            request_timeout_seconds: 30,
            shutdown_timeout_seconds: 30,
            log_format: LogFormat::Text,
            stripe_webhook_secrets: SecretString::from(""),
            stripe_webhook_tolerance_seconds: 300,
            webhook_body_limit_bytes: 1024 * 1024,
            webhook_max_backlog: 50_000,
            webhook_inbox_writers: None,
            worker_concurrency: 8,
            worker_batch_size: 64,
            worker_heartbeat_seconds: 4,
            worker_missed_heartbeats: 3,
            worker_poll_interval_ms: 10_000,
            job_retry_base_seconds: 5,
            job_retry_cap_seconds: 3600,
            smtp_url: None,
            email_from: "Billhook <billing@localhost>".into(),
            schedules: Default::default(),
            acme_directory_url: billhook_core::custom_domains::AcmeSettings::default().directory_url,
            acme_root_certificate: None,
            acme_contact_email: None,
            acme_order_timeout_seconds: 90,
            certificate_renew_before_days: 30,
            stripe_secret_key: None,
            stripe_api_base: billhook_core::stripe_api::DEFAULT_API_BASE.into(),
            stripe_publishable_key: None,
            stripe_reconcile_lookback_hours: 72,
            sandbox: None,
            sandbox_secret_key: None,
            sandbox_publishable_key: None,
            sandbox_shuffle_deliveries: false,
            catalogue: billhook_model::Catalogue::default(),
        }
    }
}

impl Settings {
    /// Loads the layered settings. `file` defaults to `billhook.toml` in the working directory
    /// (`BILLHOOK_CONFIG` names another); a missing default file is fine, a missing named one is not.
    pub fn load(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let named = file.or_else(|| std::env::var_os("BILLHOOK_CONFIG").map(PathBuf::from));
        if let Some(path) = &named {
            anyhow::ensure!(path.exists(), "configuration file {} does not exist", path.display());
        }
        let path = named.unwrap_or_else(|| PathBuf::from("billhook.toml"));
        let settings: Self = Figment::new()
            .merge(Toml::file(&path))
            .merge(Env::prefixed("BILLHOOK_").filter(|key| !is_tooling_variable(key.as_str())).split("__"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .with_context(|| format!("reading the configuration ({} and the environment)", path.display()))?;
        settings
            .catalogue
            .validate()
            .with_context(|| format!("the catalogue in {} or BILLHOOK_CATALOGUE", path.display()))?;
        Ok(settings)
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| self.public_url.as_ref().is_some_and(|u| u.scheme() == "https"))
    }

    /// The database URL with any password replaced, for logs.
    pub fn database_url_redacted(&self) -> String {
        redact_url(self.database_url.expose_secret())
    }
}

/// `BILLHOOK_*` variables that belong to the scripts and tests, not to the server's settings.
fn is_tooling_variable(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "config" || key == "cache" || key.starts_with("test_")
}

fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("REDACTED"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests;
