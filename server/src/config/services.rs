//! From the settings to the services they configure: pools, throttling, webhook verification,
//! workers, mail, ACME, the periodic jobs.

use std::time::Duration;

use billhook_core::{
    accounts::ThrottlePolicy,
    custom_domains::{AcmeSettings, CertificateAuthority},
    db::{Db, PoolOptions},
    email::Mailer,
    events::reconcile::ReconcileOptions,
    jobs::{JobServices, WorkerOptions, housekeeping::Periodic},
    stripe_api::StripeApi,
    webhooks::{InboxOptions, WebhookVerifier},
};

use secrecy::ExposeSecret;

use super::Settings;

impl Settings {
    pub fn pool_options(&self) -> PoolOptions {
        PoolOptions { max_connections: self.database_max_connections, ..PoolOptions::default() }
    }

    pub fn throttle_policy(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            window: Duration::from_secs(self.login_window_seconds),
            max_failures_per_account_and_ip: self.login_max_failures_per_account_and_ip,
            max_failures_per_ip: self.login_max_failures_per_ip,
            max_signups_per_ip: self.signup_max_per_ip,
        }
    }

    /// Password hashes run at once: the setting, else half the cores (at least one), so that a
    /// flood of log-ins or sign-ups leaves the other half to everything else.
    pub fn password_hashes_at_once(&self) -> usize {
        self.password_hashes_at_once
            .unwrap_or_else(|| std::thread::available_parallelism().map(|cores| cores.get() / 2).unwrap_or(1).max(1))
    }

    pub fn webhook_verifier(&self) -> WebhookVerifier {
        WebhookVerifier::new(
            self.stripe_webhook_secrets.expose_secret(),
            Duration::from_secs(self.stripe_webhook_tolerance_seconds),
        )
    }

    /// The inbox's tuning: the database's, with the writers the settings ask for (at least one).
    pub fn inbox_options(&self, db: &Db) -> InboxOptions {
        let options = InboxOptions::for_db(db);
        InboxOptions { writers: self.webhook_inbox_writers.unwrap_or(options.writers).max(1), ..options }
    }

    pub fn worker_options(&self) -> WorkerOptions {
        WorkerOptions {
            heartbeat: Duration::from_secs(self.worker_heartbeat_seconds.max(1)),
            missed_heartbeats: self.worker_missed_heartbeats.max(1),
            poll_interval: Duration::from_millis(self.worker_poll_interval_ms.max(10)),
            concurrency: self.worker_concurrency.max(1),
            batch_size: self.worker_batch_size.max(1),
            retry_base: Duration::from_secs(self.job_retry_base_seconds),
            retry_cap: Duration::from_secs(self.job_retry_cap_seconds),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_seconds),
        }
    }

    /// The mailer for the worker role; links in messages start with the public URL.
    pub fn mailer(&self, site_addr: std::net::SocketAddr) -> anyhow::Result<Mailer> {
        let base =
            self.public_url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_else(|| format!("http://{site_addr}"));
        Mailer::new(self.smtp_url.as_ref().map(|s| s.expose_secret()), &self.email_from, &base)
    }

    pub fn acme_settings(&self) -> AcmeSettings {
        AcmeSettings {
            directory_url: self.acme_directory_url.clone(),
            root_certificate: self.acme_root_certificate.clone(),
            contact_email: self.acme_contact_email.clone(),
            renew_before: self.certificate_renew_before(),
            order_timeout: Duration::from_secs(self.acme_order_timeout_seconds.max(1)),
        }
    }

    fn certificate_renew_before(&self) -> Duration {
        Duration::from_secs(self.certificate_renew_before_days * 24 * 3600)
    }

    /// The outside services of the worker role (`stripe`: see `crate::sandbox::stripe_api`).
    pub fn job_services(
        &self,
        site_addr: std::net::SocketAddr,
        stripe: Option<StripeApi>,
    ) -> anyhow::Result<JobServices> {
        Ok(JobServices {
            mailer: self.mailer(site_addr)?,
            certificates: CertificateAuthority::new(self.acme_settings()),
            stripe,
            catalogue: std::sync::Arc::new(self.catalogue.clone()),
        })
    }

    /// What the scheduler role's periodic jobs need (`stripe`: see `crate::sandbox::stripe_api`).
    pub fn periodic(&self, stripe: Option<StripeApi>) -> Periodic {
        let reconcile = ReconcileOptions {
            lookback: Duration::from_secs(self.stripe_reconcile_lookback_hours.clamp(1, 30 * 24) * 3600),
            ..ReconcileOptions::default()
        };
        Periodic { certificate_renew_before: self.certificate_renew_before(), stripe, reconcile }
    }
}
