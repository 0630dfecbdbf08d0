//! The certificates pages: every custom domain (see [`crate::custom_domains`]) with its owner,
//! certificate state, expiry and last attempt, newest first; and one domain with the
//! `provision_certificate` jobs run for it and every attempt they recorded. Never the private
//! key, nor the chain itself: the validity read from it is enough to operate on.

use billhook_model::CertificateStatus;

use super::{
    DashboardError,
    jobs::{self, Attempt, JobFilter, JobRow},
};
use crate::{
    db::Db,
    jobs::{Job, ProvisionCertificate},
    on_db,
};

/// One domain and its certificate, as the list and the detail show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CertificateRow {
    pub id: String,
    pub user_id: i64,
    /// The owner's address.
    pub email: String,
    pub hostname: String,
    pub status: CertificateStatus,
    /// Unix ms, as every time here.
    pub created_at: i64,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub issued_at: Option<i64>,
    /// Set while a renewal is queued.
    pub renewal_queued_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_error: Option<String>,
}

/// `$where` appended to the one column list (the key and chain are never selected).
macro_rules! select_certificates {
    ($where:literal) => {
        concat!(
            "SELECT d.id AS id, d.user_id AS user_id, u.email AS email, d.hostname AS hostname, ",
            "d.status AS status, d.created_at AS created_at, d.not_before AS not_before, ",
            "d.not_after AS not_after, d.issued_at AS issued_at, d.renewal_queued_at AS renewal_queued_at, ",
            "d.last_attempt_at AS last_attempt_at, d.last_error AS last_error ",
            "FROM custom_domains d JOIN users u ON u.id = d.user_id ",
            $where
        )
    };
}

/// How many domains the list shows.
pub const DOMAINS_SHOWN: i64 = 100;

/// The newest [`DOMAINS_SHOWN`] domains, newest first.
pub async fn list(db: &Db) -> Result<Vec<CertificateRow>, DashboardError> {
    let sql = select_certificates!("ORDER BY d.created_at DESC, d.id DESC LIMIT $1");
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(DOMAINS_SHOWN).fetch_all(pool).await)?)
}

/// Domain `id`, if it exists.
pub async fn get(db: &Db, id: &str) -> Result<Option<CertificateRow>, DashboardError> {
    let sql = select_certificates!("WHERE d.id = $1");
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?)
}

/// How many of a domain's certificate jobs the detail shows (a renewal a few times a year).
pub const JOBS_SHOWN: i64 = 20;

/// The newest certificate jobs for domain `id` (found by their `domain_id` argument), each with
/// the attempts it recorded. The domain row keeps only the last attempt; these keep them all,
/// until the housekeeping drops old attempts.
pub async fn attempts(db: &Db, id: &str) -> Result<Vec<(JobRow, Vec<Attempt>)>, DashboardError> {
    let filter = JobFilter {
        queue: Some(ProvisionCertificate::QUEUES[0].to_owned()),
        argument: Some(("domain_id".to_owned(), id.to_owned())),
        ..JobFilter::default()
    };
    let (rows, _) = jobs::list(db, &filter, None, JOBS_SHOWN).await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let attempts: Vec<Attempt> = on_db!(db, pool => {
            sqlx::query_as(
                "SELECT attempt, worker, started_at, finished_at, error, retry_at FROM job_attempts \
                 WHERE task_id = $1 ORDER BY attempt",
            )
            .bind(&row.id)
            .fetch_all(pool)
            .await
        })?;
        found.push((row, attempts));
    }
    Ok(found)
}
