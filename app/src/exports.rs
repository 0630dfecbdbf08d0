//! Server functions for customers' data exports (the archive itself is downloaded from
//! `/account/exports/{id}`, served by the server crate).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// One export as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub id: String,
    pub status: String,
    pub requested_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub size_bytes: Option<i64>,
}

/// Asks for an export of the signed-in account's data (a job builds it).
#[server(endpoint = "request_export")]
pub async fn request_export() -> Result<(), AppError> {
    use crate::auth::server::{finish_form, require_user, state};
    let result = async {
        let user = require_user()?;
        billhook_core::exports::request(&state()?.db, user.id).await.map_err(|e| {
            tracing::error!(error = %e, "could not queue a data export");
            AppError::Internal
        })?;
        Ok(())
    }
    .await;
    finish_form(result, "/account", "/account")
}

/// The signed-in account's exports, newest first.
#[server(endpoint = "my_exports")]
pub async fn my_exports() -> Result<Vec<ExportSummary>, AppError> {
    use crate::auth::server::{require_user, state};
    let user = require_user()?;
    let exports = billhook_core::exports::list(&state()?.db, user.id).await.map_err(|e| {
        tracing::error!(error = %e, "could not list data exports");
        AppError::Internal
    })?;
    Ok(exports
        .into_iter()
        .map(|e| ExportSummary {
            id: e.id,
            status: e.status.to_string(),
            requested_at_ms: e.requested_at.as_millis(),
            expires_at_ms: e.expires_at.map(|t| t.as_millis()),
            size_bytes: e.size_bytes,
        })
        .collect())
}
