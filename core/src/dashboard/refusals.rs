//! The refused webhook deliveries of the whole cluster: how many per reason since a moment, and
//! the newest sampled ones (see `webhooks::refused`), besides the signed-but-unusable bodies kept
//! in full (`webhook_rejections`).

use super::DashboardError;
use crate::{db::Db, on_db};

/// One sampled refusal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefusalRow {
    /// Unix ms.
    pub at: i64,
    pub node: String,
    pub reason: String,
    pub source: String,
    pub size: i64,
}

/// Refusals per reason since `since_ms` (most first), across every node (the unusable bodies
/// are counted here too, besides being kept).
pub async fn by_reason(db: &Db, since_ms: i64) -> Result<Vec<(String, i64)>, DashboardError> {
    let rows: Vec<(String, i64)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT reason, CAST(SUM(count) AS BIGINT) FROM webhook_refusal_counts WHERE minute >= $1 \
             GROUP BY reason ORDER BY 2 DESC, reason",
        )
        .bind(since_ms)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}

/// The newest `limit` sampled refusals, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<RefusalRow>, DashboardError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT at, node, reason, source, size FROM webhook_refusal_samples ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 500))
        .fetch_all(pool)
        .await
    })?)
}
