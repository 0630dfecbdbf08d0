//! What operators see and do in the dashboard, one file per page: the queries behind each list
//! and detail, and the actions - each recorded in the audit log in the transaction that performs
//! it, so an action and its record commit together.

pub mod audit;
pub mod bulk;
pub mod certificates;
pub mod exports;
pub mod jobs;
pub mod nodes;
pub mod outbox;
pub mod queues;
pub mod reconciliations;
pub mod refusals;
pub mod schedules;
pub mod webhooks;

/// Who acts, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("event type {0} has no handler: there is nothing to run")]
    NoHandler(String),
    #[error("a page cursor that this list did not give out")]
    BadCursor,
    #[error("a filter value the list does not know")]
    BadFilter,
    #[error("{0}")]
    WrongState(&'static str),
    #[error("queueing: {0}")]
    Enqueue(#[from] crate::jobs::EnqueueError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("a stored bulk operation cannot be read: {0}")]
    Corrupt(String),
}

/// A keyset page cursor: the sort key of the last row shown (`{unix ms}:{id}`), so the next
/// page starts after it without counting rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    /// The page of `rows`, read with a `LIMIT` of `limit + 1`, and the next page's cursor (the
    /// sort key `key` gives of its last row) when that extra row shows there is more.
    pub fn page<R>(mut rows: Vec<R>, limit: i64, key: impl Fn(&R) -> (i64, &str)) -> (Vec<R>, Option<Self>) {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = rows.last().filter(|_| more).map(|row| {
            let (at, id) = key(row);
            Self { at, id: id.to_owned() }
        });
        (rows, next)
    }

    pub fn parse(text: &str) -> Result<Self, DashboardError> {
        let (at, id) = text.split_once(':').ok_or(DashboardError::BadCursor)?;
        Ok(Self { at: at.parse().map_err(|_| DashboardError::BadCursor)?, id: id.to_owned() })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.at, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_reads_back_and_a_forged_one_is_refused() {
        let cursor = Cursor { at: 1_764_000_000_123, id: "evt_1".into() };
        assert_eq!(Cursor::parse(&cursor.to_string()).unwrap(), cursor);
        assert!(Cursor::parse("yesterday").is_err());
        assert!(Cursor::parse("abc:evt_1").is_err());
    }
}
