//! What a certificate job records on its domain row, and what it reads from the certificate.

use super::CertificateError;
use crate::{clock, db::Db, on_db};

/// The leaf certificate's validity, in unix ms.
pub(super) fn validity(chain_pem: &str) -> Result<(i64, i64), CertificateError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(chain_pem.as_bytes())
        .map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
    let cert = pem.parse_x509().map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
    let validity = cert.validity();
    Ok((validity.not_before.timestamp() * 1000, validity.not_after.timestamp() * 1000))
}

/// What a run of the job records on the domain row.
pub(super) enum Mark<'a> {
    StillValid,
    Issuing,
    /// Left for the renewal sweep's daily retry once the job's own retries end.
    Failed(&'a str),
}

pub(super) async fn mark(db: &Db, domain_id: &str, mark: Mark<'_>) -> sqlx::Result<()> {
    let now = clock::now_ms();
    on_db!(db, pool => {
        let query = match mark {
            Mark::StillValid => {
                sqlx::query("UPDATE custom_domains SET status = 'active', renewal_queued_at = NULL WHERE id = $1").bind(domain_id)
            }
            Mark::Issuing => {
                sqlx::query("UPDATE custom_domains SET status = 'issuing', last_attempt_at = $2 WHERE id = $1")
                    .bind(domain_id)
                    .bind(now)
            }
            Mark::Failed(error) => sqlx::query(
                "UPDATE custom_domains SET status = 'failed', last_attempt_at = $2, last_error = $3, renewal_queued_at = NULL \
                 WHERE id = $1",
            )
            .bind(domain_id)
            .bind(now)
            .bind(error),
        };
        query.execute(pool).await.map(|_| ())
    })
}
