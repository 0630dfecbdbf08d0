//! Stripe webhook deliveries: signature verification, the envelope, the inbox that stores each
//! delivery before it is acknowledged, and the log of refused deliveries.

mod event;
mod inbox;
mod refusals;
mod signature;

pub use event::{EnvelopeError, EventEnvelope};
pub use inbox::{Delivery, InboxError, InboxOptions, Recorded, WebhookInbox};
pub use refusals::{Refusal, RefusalLog};
pub use signature::{SignatureError, WebhookVerifier, sign};

use crate::{db::Db, on_db};

/// Keeps a correctly signed body that is not a usable event, with the reason, for operators.
pub async fn store_rejected(
    db: &Db,
    received_at_ms: i64,
    reason: &str,
    detail: &str,
    source: &str,
    payload: &[u8],
    headers: &str,
) -> sqlx::Result<()> {
    let payload = String::from_utf8_lossy(payload).into_owned();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO webhook_rejections (received_at, reason, detail, source, size, payload, headers) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(received_at_ms)
        .bind(reason)
        .bind(detail)
        .bind(source)
        .bind(i64::try_from(payload.len()).unwrap_or(i64::MAX))
        .bind(payload)
        .bind(headers)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}
