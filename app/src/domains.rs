//! Server function for the account page's custom domains and their certificates (who may add
//! domains is the billing layer's decision; operators add them with `billhook add-domain`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// One custom domain as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSummary {
    pub hostname: String,
    pub status: String,
    pub certificate_expires_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// The signed-in account's custom domains.
#[server(endpoint = "my_domains")]
pub async fn my_domains() -> Result<Vec<DomainSummary>, AppError> {
    use crate::auth::server::{require_user, state};
    let user = require_user()?;
    let domains = billhook_core::custom_domains::list(&state()?.db, user.id).await.map_err(|e| {
        tracing::error!(error = %e, "could not list custom domains");
        AppError::Internal
    })?;
    Ok(domains
        .into_iter()
        .map(|d| DomainSummary {
            hostname: d.hostname,
            status: d.status.to_string(),
            certificate_expires_at_ms: d.not_after.map(|t| t.as_millis()),
            last_error: d.last_error,
        })
        .collect())
}
