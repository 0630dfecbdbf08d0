//! A transaction on either database, for work that several steps (and modules) compose - as
//! zero2prod passes `&mut Transaction` through the steps of a request. Each step writes its
//! query once inside [`on_tx!`](crate::on_tx), compiled for each driver; the caller owns the
//! commit.

use super::{Db, Sql};

/// An open transaction on SQLite or PostgreSQL. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the connection (`&mut SqliteConnection` or
/// `&mut PgConnection`) of a `&mut Tx`; the body is compiled once for each database. Use
/// `&mut *$conn` to run more than one statement.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

impl Db {
    /// Begins a transaction.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Begins a transaction that reads and then writes: on SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`, waiting out the busy timeout), since a read transaction that
    /// later writes fails with "database is locked" when another writer committed in between.
    pub async fn begin_read_then_write(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
    }

    /// Picks the statement for this transaction's database.
    pub fn sql(&self, sql: &Sql) -> &'static str {
        match self {
            Self::Sqlite(_) => sql.sqlite,
            Self::Postgres(_) => sql.postgres,
        }
    }
}
