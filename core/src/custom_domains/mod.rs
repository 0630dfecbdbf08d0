//! Customers' custom domains and their TLS certificates.
//!
//! Adding a domain queues the `provision_certificate` job in the same transaction. The job (see
//! [`acme`]) orders a certificate over ACME, answers the HTTP-01 challenge from the database - so
//! whichever web node the CA reaches can answer it - and stores the chain, key and expiry. A
//! scheduled sweep ([`queue_renewals`]) queues renewals ahead of expiry and retries failed domains
//! once a day. Who may add domains is the billing layer's decision; this layer only checks names.

pub mod acme;
mod hostname;
mod record;

use std::time::Duration;

use billhook_model::{CertificateStatus, Timestamp};

pub use acme::{AcmeSettings, CertificateAuthority, CertificateError, Provisioned};
pub use hostname::{Hostname, HostnameError};

use crate::{
    clock,
    db::Db,
    jobs::{self, EnqueueError, ProvisionCertificate},
    on_db,
};

/// A custom domain as its owner and operators see it (never the private key).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomDomain {
    pub id: String,
    pub user_id: i64,
    pub hostname: String,
    pub status: CertificateStatus,
    pub created_at: Timestamp,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    pub issued_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

macro_rules! select_domains {
    ($where:literal) => {
        concat!(
            "SELECT id, user_id, hostname, status, created_at, not_before, not_after, issued_at, last_attempt_at, last_error ",
            "FROM custom_domains ",
            $where
        )
    };
}

#[derive(Debug, thiserror::Error)]
pub enum CustomDomainError {
    #[error(transparent)]
    Invalid(#[from] HostnameError),
    #[error("{0} is already added")]
    Taken(String),
    #[error("queueing the certificate: {0}")]
    Enqueue(#[from] EnqueueError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Adds `hostname` for `user_id` and queues its certificate. A name belongs to one account.
pub async fn add(db: &Db, user_id: i64, hostname: &str) -> Result<CustomDomain, CustomDomainError> {
    let hostname = Hostname::parse(hostname)?;
    let domain = CustomDomain {
        id: uuid::Uuid::new_v4().to_string(),
        user_id,
        hostname: hostname.to_string(),
        status: CertificateStatus::Pending,
        created_at: Timestamp(clock::now_ms()),
        not_before: None,
        not_after: None,
        issued_at: None,
        last_attempt_at: None,
        last_error: None,
    };
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO custom_domains (id, user_id, hostname, status, created_at) VALUES ($1, $2, $3, 'pending', $4) \
             ON CONFLICT (hostname) DO NOTHING",
        )
        .bind(&domain.id)
        .bind(user_id)
        .bind(&domain.hostname)
        .bind(domain.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(CustomDomainError::Taken(domain.hostname));
        }
        jobs::enqueue(&mut *tx, &[ProvisionCertificate { domain_id: domain.id.clone() }]).await?;
        tx.commit().await?;
        Ok(domain)
    })
}

/// `user_id`'s domains, by name.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<CustomDomain>, CustomDomainError> {
    let sql = select_domains!("WHERE user_id = $1 ORDER BY hostname");
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(user_id).fetch_all(pool).await)?)
}

/// Removes `user_id`'s domain `id` (its certificate with it); false when the account has no
/// such domain.
pub async fn remove(db: &Db, user_id: i64, id: &str) -> Result<bool, CustomDomainError> {
    let removed = on_db!(db, pool => {
        sqlx::query("DELETE FROM custom_domains WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(removed > 0)
}

/// One domain by id.
pub async fn get(db: &Db, id: &str) -> Result<Option<CustomDomain>, CustomDomainError> {
    let sql = select_domains!("WHERE id = $1");
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?)
}

/// How long a failed domain waits before the sweep tries it again.
pub const RETRY_FAILED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Queues `provision_certificate` for every active domain whose certificate expires within
/// `renew_before`, and for failed domains last tried over a day ago. Each renewal is queued once
/// (`renewal_queued_at`), however often the sweep runs. Returns how many were queued.
pub async fn queue_renewals(db: &Db, renew_before: Duration) -> Result<usize, CustomDomainError> {
    let now = clock::now_ms();
    let expiring_before = now + i64::try_from(renew_before.as_millis()).unwrap_or(i64::MAX / 2);
    let retry_before = now - i64::try_from(RETRY_FAILED_AFTER.as_millis()).unwrap_or(0);
    let queued = on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE custom_domains SET renewal_queued_at = $1 \
             WHERE renewal_queued_at IS NULL \
               AND ((status = 'active' AND not_after < $2) OR (status = 'failed' AND last_attempt_at < $3)) \
             RETURNING id",
        )
        .bind(now)
        .bind(expiring_before)
        .bind(retry_before)
        .fetch_all(&mut *tx)
        .await?;
        let renewals: Vec<_> = ids.into_iter().map(|domain_id| ProvisionCertificate { domain_id }).collect();
        let sweep = jobs::Cause::Schedule(jobs::housekeeping::CERTIFICATE_RENEWALS);
        jobs::enqueue_because(&mut *tx, sweep, &renewals).await?;
        tx.commit().await?;
        Ok::<_, CustomDomainError>(renewals.len())
    })?;
    if queued > 0 {
        tracing::info!(queued, "queued certificate renewals");
    }
    Ok(queued)
}

/// The key authorization for an open HTTP-01 challenge `token` of `hostname` (RFC 8555 8.3).
pub async fn challenge_response(db: &Db, hostname: &str, token: &str) -> Result<Option<String>, CustomDomainError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT key_authorization FROM acme_challenges WHERE token = $1 AND hostname = $2")
            .bind(token)
            .bind(hostname.to_ascii_lowercase())
            .fetch_optional(pool)
            .await
    })?)
}
