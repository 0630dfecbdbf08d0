//! The `provision_certificate` job: a certificate for one custom domain from an ACME CA
//! (Let's Encrypt by default; Pebble in the tests) with the HTTP-01 challenge answered by
//! Billhook's own web role from `acme_challenges`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy,
};
use tokio::sync::Mutex;

use super::record::{Mark, mark, validity};
use crate::{clock, db::Db, on_db};

/// Where certificates come from (from the configuration).
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    /// The CA's directory URL.
    pub directory_url: String,
    /// A PEM root to trust for the directory's own TLS (a test CA such as Pebble); `None`: the
    /// system's roots.
    pub root_certificate: Option<PathBuf>,
    /// `mailto:` contact for the ACME account (expiry notices from the CA).
    pub contact_email: Option<String>,
    /// Renew a certificate this long before it expires.
    pub renew_before: Duration,
    /// How long one attempt waits for the CA to validate and issue.
    pub order_timeout: Duration,
}

impl Default for AcmeSettings {
    fn default() -> Self {
        Self {
            directory_url: instant_acme::LetsEncrypt::Production.url().to_owned(),
            root_certificate: None,
            contact_email: None,
            renew_before: Duration::from_secs(30 * 24 * 3600),
            order_timeout: Duration::from_secs(90),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("the CA refused or failed: {0}")]
    Acme(#[from] instant_acme::Error),
    #[error("validation of {hostname} failed: {detail}")]
    Validation { hostname: String, detail: String },
    #[error("the CA's certificate cannot be read: {0}")]
    BadCertificate(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the stored ACME account cannot be read or written: {0}")]
    AccountCredentials(#[from] serde_json::Error),
}

/// What one run of the job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    /// A new certificate, valid until `not_after` (unix ms).
    Issued { not_after: i64 },
    /// The stored certificate is good for longer than the renewal window: nothing to do.
    StillValid,
    /// Its owner removed the domain before the job ran: nothing to do.
    Removed,
}

/// The ACME client of a worker process: settings plus the account, loaded or registered once.
#[derive(Clone)]
pub struct CertificateAuthority {
    settings: Arc<AcmeSettings>,
    account: Arc<Mutex<Option<Account>>>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority").field("directory_url", &self.settings.directory_url).finish()
    }
}

impl CertificateAuthority {
    pub fn new(settings: AcmeSettings) -> Self {
        Self { settings: Arc::new(settings), account: Arc::default() }
    }

    pub fn settings(&self) -> &AcmeSettings {
        &self.settings
    }

    fn account_builder(&self) -> Result<instant_acme::AccountBuilder, CertificateError> {
        Ok(match &self.settings.root_certificate {
            Some(root) => Account::builder_with_root(root)?,
            None => Account::builder()?,
        })
    }

    /// The account for the directory: from the database when any node registered one, else
    /// registered now and stored (a node that loses the race to store it uses the winner's).
    async fn account(&self, db: &Db) -> Result<Account, CertificateError> {
        let mut cached = self.account.lock().await;
        if let Some(account) = cached.as_ref() {
            return Ok(account.clone());
        }
        let directory = &self.settings.directory_url;
        let stored: Option<String> = on_db!(db, pool => {
            sqlx::query_scalar("SELECT credentials FROM acme_accounts WHERE directory_url = $1")
                .bind(directory)
                .fetch_optional(pool)
                .await
        })?;
        let account = match stored {
            Some(json) => {
                let credentials: AccountCredentials = serde_json::from_str(&json)?;
                self.account_builder()?.from_credentials(credentials).await?
            }
            None => {
                let contact = self.settings.contact_email.as_ref().map(|email| format!("mailto:{email}"));
                let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
                let new = NewAccount { contact: &contact, terms_of_service_agreed: true, only_return_existing: false };
                let (account, credentials) = self.account_builder()?.create(&new, directory.clone(), None).await?;
                let json = serde_json::to_string(&credentials)?;
                let inserted = on_db!(db, pool => {
                    sqlx::query(
                        "INSERT INTO acme_accounts (directory_url, credentials, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (directory_url) DO NOTHING",
                    )
                    .bind(directory)
                    .bind(&json)
                    .bind(clock::now_ms())
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
                })?;
                if inserted == 0 {
                    drop(cached);
                    return Box::pin(self.account(db)).await; // another node registered first
                }
                tracing::info!(directory, id = account.id(), "registered an ACME account");
                account
            }
        };
        *cached = Some(account.clone());
        Ok(account)
    }

    /// Obtains a certificate for domain `domain_id` unless its current one is still good.
    pub async fn provision(&self, db: &Db, domain_id: &str) -> Result<Provisioned, CertificateError> {
        let now = clock::now_ms();
        let row: Option<(String, Option<i64>)> = on_db!(db, pool => {
            sqlx::query_as("SELECT hostname, not_after FROM custom_domains WHERE id = $1")
                .bind(domain_id)
                .fetch_optional(pool)
                .await
        })?;
        let Some((hostname, not_after)) = row else {
            return Ok(Provisioned::Removed);
        };
        let renew_before = i64::try_from(self.settings.renew_before.as_millis()).unwrap_or(i64::MAX / 2);
        if not_after.is_some_and(|t| t > now + renew_before) {
            // Issued by an earlier run of this job (or a duplicate of it): nothing to do.
            mark(db, domain_id, Mark::StillValid).await?;
            return Ok(Provisioned::StillValid);
        }
        mark(db, domain_id, Mark::Issuing).await?;
        match self.order(db, &hostname).await {
            Ok((chain_pem, key_pem, not_before, not_after)) => {
                on_db!(db, pool => {
                    let mut tx = pool.begin().await?;
                    sqlx::query(
                        "UPDATE custom_domains SET status = 'active', certificate_pem = $2, private_key_pem = $3, \
                         not_before = $4, not_after = $5, issued_at = $6, renewal_queued_at = NULL, last_error = NULL \
                         WHERE id = $1",
                    )
                    .bind(domain_id)
                    .bind(&chain_pem)
                    .bind(&key_pem)
                    .bind(not_before)
                    .bind(not_after)
                    .bind(clock::now_ms())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM acme_challenges WHERE hostname = $1").bind(&hostname).execute(&mut *tx).await?;
                    tx.commit().await
                })?;
                tracing::info!(%hostname, not_after, "certificate issued");
                Ok(Provisioned::Issued { not_after })
            }
            Err(e) => {
                mark(db, domain_id, Mark::Failed(&e.to_string())).await?;
                Err(e)
            }
        }
    }

    /// One ACME order for `hostname`: returns the chain and key (PEM) and the validity (unix ms).
    async fn order(&self, db: &Db, hostname: &str) -> Result<(String, String, i64, i64), CertificateError> {
        let account = self.account(db).await?;
        let identifiers = [Identifier::Dns(hostname.to_owned())];
        let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization?;
            match authorization.status {
                AuthorizationStatus::Valid => continue, // the CA reuses a recent validation
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(CertificateError::Validation {
                        hostname: hostname.to_owned(),
                        detail: format!("authorization is {other:?}"),
                    });
                }
            }
            let mut challenge =
                authorization.challenge(ChallengeType::Http01).ok_or_else(|| CertificateError::Validation {
                    hostname: hostname.to_owned(),
                    detail: "the CA offers no http-01 challenge".into(),
                })?;
            let token = challenge.token.clone();
            let key_authorization = challenge.key_authorization().as_str().to_owned();
            on_db!(db, pool => {
                sqlx::query(
                    "INSERT INTO acme_challenges (token, hostname, key_authorization, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (token) DO UPDATE SET key_authorization = excluded.key_authorization",
                )
                .bind(&token)
                .bind(hostname)
                .bind(&key_authorization)
                .bind(clock::now_ms())
                .execute(pool)
                .await
                .map(|_| ())
            })?;
            challenge.set_ready().await?;
        }

        let policy = RetryPolicy::new().initial_delay(Duration::from_millis(250)).timeout(self.settings.order_timeout);
        match order.poll_ready(&policy).await? {
            OrderStatus::Ready => {}
            OrderStatus::Invalid => {
                return Err(CertificateError::Validation {
                    hostname: hostname.to_owned(),
                    detail: validation_problems(&mut order).await,
                });
            }
            other => {
                return Err(CertificateError::Validation {
                    hostname: hostname.to_owned(),
                    detail: format!("the order is still {other:?} after {:?}", self.settings.order_timeout),
                });
            }
        }
        let key_pem = order.finalize().await?;
        let chain_pem = order.poll_certificate(&policy).await?;
        let (not_before, not_after) = validity(&chain_pem)?;
        Ok((chain_pem, key_pem, not_before, not_after))
    }
}

/// What the CA said about each failed challenge of an invalid order.
async fn validation_problems(order: &mut instant_acme::Order) -> String {
    let mut problems = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let Ok(mut authorization) = authorization else { continue };
        if let Ok(state) = authorization.refresh().await {
            problems.extend(state.challenges.iter().filter_map(|c| c.error.as_ref()).map(ToString::to_string));
        }
    }
    if problems.is_empty() { "the CA marked the order invalid".into() } else { problems.join("; ") }
}
