//! The audit log: every operator action - who, what, on what (or which filter), how many rows it
//! touched, when.

use super::{Actor, Cursor, DashboardError};
use crate::{
    clock,
    db::{Db, Tx},
    on_db, on_tx,
};

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    pub actor_id: i64,
    pub actor_email: String,
    /// `webhook.process_again`, ...
    pub action: String,
    /// The object acted on, or the filter an action on many rows matched.
    pub target: String,
    pub row_count: i64,
}

/// Records `action` by `actor` on `target` (`rows` touched) inside `tx`, the action's own
/// transaction.
pub async fn record(tx: &mut Tx, actor: &Actor, action: &str, target: &str, rows: i64) -> Result<(), DashboardError> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO admin_audit (at, actor_id, actor_email, action, target, row_count) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(clock::now_ms())
        .bind(actor.user_id)
        .bind(&actor.email)
        .bind(action)
        .bind(target)
        .bind(rows)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// Records an action that changes no row of the database (`action` on `target`, one thing).
pub async fn record_one(db: &Db, actor: &Actor, action: &str, target: &str) -> Result<(), DashboardError> {
    let mut tx = db.begin().await?;
    record(&mut tx, actor, action, target, 1).await?;
    tx.commit().await?;
    Ok(())
}

/// The newest `limit` entries before `before` (a cursor from the previous page), newest first;
/// and the cursor of the next page, if there is one.
pub async fn list(
    db: &Db,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<Cursor>), DashboardError> {
    let limit = limit.clamp(1, 200);
    let before_id = before.map(|c| c.id.parse::<i64>().map_err(|_| DashboardError::BadCursor)).transpose()?;
    let mut entries: Vec<AuditEntry> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, at, actor_id, actor_email, action, target, row_count FROM admin_audit \
             WHERE $1 IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before_id)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    let more = entries.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| entries.last().map(|e| Cursor { at: e.at, id: e.id.to_string() })).flatten();
    Ok((entries, next))
}
