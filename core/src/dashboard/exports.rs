//! The data exports pages: every customer's export (see [`crate::exports`]) with its owner's
//! address, newest request first in keyset pages; and one export - everything stored of it but
//! the archive, which only its owner may read.

use billhook_model::ExportStatus;

use super::{Cursor, DashboardError};
use crate::{
    db::{Db, query_builder},
    on_db,
};

/// One export, as the list and the detail show it (never the archive).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportRow {
    pub id: String,
    pub user_id: i64,
    /// The owner's address.
    pub email: String,
    pub status: ExportStatus,
    /// Unix ms.
    pub requested_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The archive's size, once built.
    pub size_bytes: Option<i64>,
    /// Why the build failed.
    pub error: Option<String>,
}

const COLUMNS: &str = "SELECT e.id AS id, e.user_id AS user_id, u.email AS email, e.status AS status, \
                       e.requested_at AS requested_at, e.finished_at AS finished_at, e.expires_at AS expires_at, \
                       e.size_bytes AS size_bytes, e.error AS error \
                       FROM data_exports e JOIN users u ON u.id = e.user_id";

/// The newest `limit` exports requested before `before` (the cursor of the page shown), and the
/// next page's cursor if there is more.
pub async fn list(
    db: &Db,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<ExportRow>, Option<Cursor>), DashboardError> {
    let limit = limit.clamp(1, 200);
    let rows: Vec<ExportRow> = on_db!(db, pool => {
        let mut query = query_builder(pool, COLUMNS);
        query.push(" WHERE 1 = 1");
        if let Some(cursor) = before {
            query.push(" AND (e.requested_at < ").push_bind(cursor.at);
            query.push(" OR (e.requested_at = ").push_bind(cursor.at);
            query.push(" AND e.id < ").push_bind(cursor.id.clone()).push("))");
        }
        query.push(" ORDER BY e.requested_at DESC, e.id DESC LIMIT ").push_bind(limit + 1);
        query.build_query_as().fetch_all(pool).await
    })?;
    Ok(Cursor::page(rows, limit, |r| (r.requested_at, &r.id)))
}

/// Export `id`, if it exists.
pub async fn get(db: &Db, id: &str) -> Result<Option<ExportRow>, DashboardError> {
    Ok(on_db!(db, pool => {
        let mut query = query_builder(pool, COLUMNS);
        query.push(" WHERE e.id = ").push_bind(id.to_owned());
        query.build_query_as().fetch_optional(pool).await
    })?)
}
