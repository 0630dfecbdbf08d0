//! Customers' data exports: a request queues the `export_data` job in the same transaction; the
//! job builds a JSON archive of the account and what Billhook holds about it; the owner - and
//! only the owner - can download it until it expires.

use std::time::Duration;

use billhook_model::{ExportStatus, Timestamp};
use serde_json::json;

use crate::{
    clock,
    db::Db,
    jobs::{self, EnqueueError, ExportData},
    on_db,
};

/// How long a finished export can be downloaded.
pub const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// One export as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Export {
    pub id: String,
    pub status: ExportStatus,
    pub requested_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub size_bytes: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("export {0} does not exist")]
    NotFound(String),
    #[error("reading the account's custom domains: {0}")]
    CustomDomains(#[from] crate::custom_domains::CustomDomainError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queueing the export: {0}")]
    Enqueue(#[from] EnqueueError),
}

/// Asks for an export of `user_id`'s data; while one is still being made, returns that one.
pub async fn request(db: &Db, user_id: i64) -> Result<Export, ExportError> {
    let now = clock::now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let job = ExportData { export_id: id.clone() };
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // Insert unless one is being made - a write first, so SQLite takes its write lock at once
        // (a read-then-write transaction can fail with SQLITE_BUSY under concurrent writes).
        let inserted = sqlx::query(
            "INSERT INTO data_exports (id, user_id, status, requested_at) SELECT $1, $2, 'queued', $3 \
             WHERE NOT EXISTS (SELECT 1 FROM data_exports WHERE user_id = $2 AND status IN ('queued', 'building'))",
        )
        .bind(&id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let pending: Export = sqlx::query_as(
                "SELECT id, status, requested_at, finished_at, expires_at, size_bytes FROM data_exports \
                 WHERE user_id = $1 AND status IN ('queued', 'building') ORDER BY requested_at DESC LIMIT 1",
            )
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            return Ok(pending);
        }
        jobs::enqueue(&mut *tx, &[job]).await?;
        tx.commit().await?;
        Ok(Export { id, status: ExportStatus::Queued, requested_at: Timestamp(now), finished_at: None, expires_at: None, size_bytes: None })
    })
}

/// `user_id`'s exports, newest first.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<Export>, ExportError> {
    on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, status, requested_at, finished_at, expires_at, size_bytes FROM data_exports \
             WHERE user_id = $1 ORDER BY requested_at DESC LIMIT 20",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
    .map_err(Into::into)
}

/// The archive of export `id` if it belongs to `user_id`, is ready and has not expired.
pub async fn download(db: &Db, user_id: i64, id: &str) -> Result<Option<String>, ExportError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT archive FROM data_exports WHERE id = $1 AND user_id = $2 AND status = 'ready' AND expires_at > $3",
        )
        .bind(id)
        .bind(user_id)
        .bind(clock::now_ms())
        .fetch_optional(pool)
        .await
    })?)
}

/// Builds export `id` (the job). Idempotent: a ready export is left as it is.
pub async fn build(db: &Db, id: &str) -> Result<(), ExportError> {
    let claimed: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("UPDATE data_exports SET status = 'building' WHERE id = $1 AND status IN ('queued', 'building') RETURNING user_id")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    let Some(user_id) = claimed else {
        let exists: Option<String> = on_db!(db, pool => {
            sqlx::query_scalar("SELECT status FROM data_exports WHERE id = $1").bind(id).fetch_optional(pool).await
        })?;
        return if exists.is_some() { Ok(()) } else { Err(ExportError::NotFound(id.to_owned())) };
    };

    let (account, emails, exports) = on_db!(db, pool => {
        let account: (i64, String, String, i64) =
            sqlx::query_as("SELECT id, email, role, created_at FROM users WHERE id = $1").bind(user_id).fetch_one(pool).await?;
        let emails: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT template, subject, status, created_at FROM email_outbox WHERE recipient = $1 ORDER BY created_at",
        )
        .bind(&account.1)
        .fetch_all(pool)
        .await?;
        let exports: Vec<(String, i64)> = sqlx::query_as("SELECT id, requested_at FROM data_exports WHERE user_id = $1 ORDER BY requested_at")
            .bind(user_id)
            .fetch_all(pool)
            .await?;
        Ok::<_, sqlx::Error>((account, emails, exports))
    })?;
    let stripe = stripe_data(db, user_id).await?;
    let domains = crate::custom_domains::list(db, user_id).await?;
    let archive = json!({
        "format": "billhook-export/1",
        "generated_at_ms": clock::now_ms(),
        "account": { "id": account.0, "email": account.1, "role": account.2, "created_at_ms": account.3 },
        "stripe_customers": stripe.customers.iter().map(|(id, email, name, deleted)| json!({
            "id": id, "email": email, "name": name, "deleted": deleted
        })).collect::<Vec<_>>(),
        "subscriptions": stripe.subscriptions.iter().map(|(id, customer, status, cancel_at_period_end, period_end, prices)| json!({
            "id": id, "customer": customer, "status": status, "cancel_at_period_end": cancel_at_period_end,
            "current_period_end": period_end, "price_ids": serde_json::from_str::<serde_json::Value>(prices).unwrap_or_default()
        })).collect::<Vec<_>>(),
        // Billing mirrors invoices; until then they are in the related events below.
        "invoices": [],
        "stripe_events": stripe.events.iter().map(|(id, event_type, created, payload)| json!({
            "id": id, "type": event_type, "created": created,
            "event": serde_json::from_str::<serde_json::Value>(payload).unwrap_or_default()
        })).collect::<Vec<_>>(),
        "custom_domains": domains.iter().map(|d| json!({
            "hostname": d.hostname, "status": d.status, "added_at_ms": d.created_at, "certificate_expires_at_ms": d.not_after
        })).collect::<Vec<_>>(),
        "emails": emails.iter().map(|(template, subject, status, at)| json!({
            "template": template, "subject": subject, "status": status, "at_ms": at
        })).collect::<Vec<_>>(),
        "exports": exports.iter().map(|(id, at)| json!({ "id": id, "requested_at_ms": at })).collect::<Vec<_>>(),
    })
    .to_string();
    let now = clock::now_ms();
    let expires = now + i64::try_from(KEEP_FOR.as_millis()).unwrap_or(i64::MAX);
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE data_exports SET status = 'ready', archive = $2, size_bytes = $3, finished_at = $4, expires_at = $5 \
             WHERE id = $1 AND status = 'building'",
        )
        .bind(id)
        .bind(&archive)
        .bind(i64::try_from(archive.len()).unwrap_or(i64::MAX))
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// What Billhook mirrors from Stripe about one account: its customers (linked by billing through
/// the customer's `billhook_user_id` metadata), their subscriptions, and the events about either.
struct StripeData {
    /// id, email, name, deleted
    customers: Vec<(String, Option<String>, Option<String>, bool)>,
    subscriptions: Vec<SubscriptionRow>,
    /// id, type, created, the event as stored
    events: Vec<(String, String, i64, String)>,
}

/// id, customer, status, cancel_at_period_end, current_period_end, price ids (JSON)
type SubscriptionRow = (String, Option<String>, String, bool, Option<i64>, String);

async fn stripe_data(db: &Db, user_id: i64) -> sqlx::Result<StripeData> {
    on_db!(db, pool => {
        let customers = sqlx::query_as("SELECT id, email, name, deleted FROM stripe_customers WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(pool)
            .await?;
        let subscriptions = sqlx::query_as(
            "SELECT s.id, s.customer_id, s.status, s.cancel_at_period_end, s.current_period_end, s.price_ids \
             FROM stripe_subscriptions s JOIN stripe_customers c ON c.id = s.customer_id WHERE c.user_id = $1 ORDER BY s.id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?;
        let events = sqlx::query_as(
            "SELECT id, event_type, created, payload FROM webhook_events WHERE object_id IN ( \
                 SELECT id FROM stripe_customers WHERE user_id = $1 \
                 UNION SELECT s.id FROM stripe_subscriptions s JOIN stripe_customers c ON c.id = s.customer_id WHERE c.user_id = $1 \
             ) ORDER BY created, id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?;
        Ok(StripeData { customers, subscriptions, events })
    })
}

/// Drops the archives of expired exports (the scheduler's cleanup).
pub async fn expire(db: &Db) -> Result<u64, ExportError> {
    Ok(on_db!(db, pool => {
        sqlx::query("UPDATE data_exports SET status = 'expired', archive = NULL WHERE status = 'ready' AND expires_at <= $1")
            .bind(clock::now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?)
}
