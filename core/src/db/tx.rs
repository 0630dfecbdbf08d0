//! A transaction on either database, for work that several steps (and modules) compose - as
//! zero2prod passes `&mut Transaction` through the steps of a request. Each step writes its
//! query once inside [`on_tx!`](crate::on_tx), compiled for each driver; the caller owns the
//! commit.

use std::ops::{Deref, DerefMut};

use super::{Db, Sql, WriteTurn};

/// An open transaction on SQLite or PostgreSQL. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A SQLite write transaction and its writer's turn, which it keeps until it ends.
#[derive(Debug)]
pub struct SqliteTx {
    // Declared first: dropped (rolled back) before the turn passes on.
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: WriteTurn,
}

impl Deref for SqliteTx {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
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
    /// Begins a write transaction. On SQLite it waits for its writer's turn
    /// ([`Db::write_turn`]) and takes the write lock at once (`BEGIN IMMEDIATE`): a transaction
    /// that reads and then writes cannot fail with "database is locked" at its first write.
    #[track_caller]
    pub fn begin(&self) -> impl Future<Output = sqlx::Result<Tx>> + Send + '_ {
        let at = std::panic::Location::caller();
        async move {
            Ok(match self {
                Self::Sqlite(sqlite) => {
                    let (tx, turn) = sqlite.begin_write(at).await?;
                    Tx::Sqlite(SqliteTx { tx, _turn: turn })
                }
                Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            })
        }
    }
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(tx) => tx.tx.commit().await,
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
