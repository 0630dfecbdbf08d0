//! `provision_certificate`: obtains (or renews) one custom domain's certificate over ACME
//! (`crate::custom_domains::acme`). ACME orders wait on the CA: few at a time, generous retries.

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::custom_domains::CertificateError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionCertificate {
    pub domain_id: String,
}

impl Job for ProvisionCertificate {
    const NAME: &'static str = "provision_certificate";
    const QUEUES: &'static [&'static str] = &["certificates"];
    const MAX_ATTEMPTS: usize = 8;
    type Error = CertificateError;

    async fn run(&self, ctx: &JobContext) -> Result<(), CertificateError> {
        let outcome = ctx.services.certificates.provision(&ctx.db, &self.domain_id).await?;
        tracing::debug!(domain = %self.domain_id, ?outcome, "certificate job done");
        Ok(())
    }
}

impl JobError for CertificateError {
    /// The CA's trouble, the network's and a validation that failed (DNS not pointed here yet)
    /// may all pass: every error is worth the attempts left.
    fn is_permanent(&self) -> bool {
        false
    }
}
