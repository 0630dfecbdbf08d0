//! Unusable deliveries: the signature is good but the body is not a Stripe event Billhook can
//! use (not JSON, no event id). It came from Stripe, or from someone holding the secret, so
//! unlike other refusals it is *kept* - in `webhook_rejections` - for operators to read.

use crate::{db::Db, on_db};

/// Keeps a correctly signed body that is not a usable event, with the reason, for operators.
pub async fn keep_unusable(
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
