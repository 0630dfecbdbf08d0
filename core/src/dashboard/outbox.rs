//! The outbox mail page: one message Billhook sent or kept (see [`crate::email`]), as stored.

use super::DashboardError;
use crate::{db::Db, email::OutboxMessage, on_db};

/// Message `id`, if the outbox has it.
pub async fn get(db: &Db, id: &str) -> Result<Option<OutboxMessage>, DashboardError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, recipient, subject, body, template, status, created_at FROM email_outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?)
}
