//! The one store handle the rest of Billhook calls: a pool on SQLite (the embedded default) or on
//! PostgreSQL (the shared host for a cluster), chosen by the `DATABASE_URL` scheme.
//!
//! Queries are plain runtime-checked sqlx queries written once where both dialects agree (SQLite
//! accepts PostgreSQL's `$1` placeholders) and as side-by-side pairs ([`Sql`]) where they differ.
//! Each is exercised on both databases by the integration tests.

pub mod after_commit;
mod busy;
mod checkpoints;
mod tx;
mod write_turns;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use checkpoints::CHECKPOINT_EVERY;
pub use tx::Tx;
pub use write_turns::{SqliteDb, TURN_TIMEOUT, WriteTurn};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    /// Tells the kind from a `DATABASE_URL`.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:// (got a URL with another scheme)")
        }
    }
}

/// The same statement in each dialect, kept side by side.
pub struct Sql {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// A query builder for `pool`'s database (placeholders in its dialect), for statements whose
/// shape depends on the data (multi-row inserts, `IN` lists).
pub fn query_builder<DB: sqlx::Database>(_pool: &sqlx::Pool<DB>, init: &str) -> sqlx::QueryBuilder<DB> {
    sqlx::QueryBuilder::new(init)
}

/// Pool settings that the configuration controls.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

/// A connection pool on one of the two supported databases (on SQLite with its writers' turns).
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of a [`Db`] (`&SqlitePool` or
/// `&PgPool`); the body is compiled once for each database, so one query text and one row type
/// serve both. A body that writes on SQLite outside a [`Tx`] takes its turn first
/// ([`Db::write_turn`]).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => {
                let $pool = sqlite.pool();
                $body
            }
            $crate::db::Db::Postgres(pool) => {
                let $pool = &*pool;
                $body
            }
        }
    };
}

/// Whether a PostgreSQL host is this machine (a name, an address, or a Unix socket's folder).
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with('/') || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How long a SQLite statement waits for a lock held by another connection before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    /// Opens a pool for `url`. A SQLite file (and its folder) is created when missing, in WAL mode.
    pub async fn connect(url: &str, options: &PoolOptions) -> anyhow::Result<Self> {
        match DbKind::from_url(url)? {
            DbKind::Sqlite => {
                let connect = SqliteConnectOptions::from_str(url)
                    .context("parsing the SQLite DATABASE_URL")?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    // Checkpoints run off the write path (`checkpoints`): one inside a commit
                    // stalls every delivery waiting on that commit (docs/benchmarks.md).
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("journal_size_limit", (64 * 1024 * 1024).to_string())
                    .foreign_keys(true);
                if let Some(dir) = connect.get_filename().parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating the database folder {}", dir.display()))?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            busy::wait_at_most(conn, BUSY_TIMEOUT).await?;
                            after_commit::install(conn).await
                        })
                    })
                    .connect_with(connect)
                    .await
                    .context("opening the SQLite database")?;
                Ok(Self::Sqlite(SqliteDb::new(pool)))
            }
            DbKind::Postgres => {
                let mut connect = PgConnectOptions::from_str(url).context("parsing the PostgreSQL DATABASE_URL")?;
                // sqlx, like libpq, prefers TLS when the server offers it - even to this machine,
                // where it protects nothing and costs both sides CPU on every statement (the
                // webhook bodies above all: docs/benchmarks.md, run 9). Plain on loopback unless
                // the URL or PGSSLMODE asks otherwise.
                if is_loopback(connect.get_host())
                    && !url.contains("sslmode=")
                    && std::env::var_os("PGSSLMODE").is_none()
                {
                    connect = connect.ssl_mode(PgSslMode::Disable);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .context("connecting to PostgreSQL")?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// Waits for this database's next write turn on SQLite (see [`write_turns`]); PostgreSQL
    /// has none to take. For a write outside a [`Tx`] (which holds its own): keep the turn until
    /// the statement is done.
    #[track_caller]
    pub fn write_turn(&self) -> impl Future<Output = sqlx::Result<WriteTurn>> + Send + '_ {
        let turn = match self {
            Self::Sqlite(sqlite) => Some(sqlite.write_turn()),
            Self::Postgres(_) => None,
        };
        async move {
            match turn {
                Some(turn) => turn.await,
                None => Ok(WriteTurn::none()),
            }
        }
    }

    pub fn kind(&self) -> DbKind {
        match self {
            Self::Sqlite(_) => DbKind::Sqlite,
            Self::Postgres(_) => DbKind::Postgres,
        }
    }

    /// Whether the database runs on this machine: SQLite always; PostgreSQL over a Unix socket
    /// or a loopback address. (It then shares this machine's cores; across a network, round trips
    /// cost more than statements.)
    pub fn on_this_machine(&self) -> bool {
        match self {
            Self::Sqlite(_) => true,
            Self::Postgres(pool) => {
                let options = pool.connect_options();
                options.get_socket().is_some() || is_loopback(options.get_host())
            }
        }
    }

    /// Picks the statement for this database.
    pub fn sql(&self, sql: &Sql) -> &'static str {
        match self {
            Self::Sqlite(_) => sql.sqlite,
            Self::Postgres(_) => sql.postgres,
        }
    }

    fn migrator(&self) -> Migrator {
        let embedded = match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let mut migrator = Migrator::with_migrations(embedded.migrations.to_vec());
        // The job queue's own migrations may share the bookkeeping table: tolerate versions that
        // are not Billhook's.
        migrator.set_ignore_missing(true);
        migrator
    }

    /// Applies Billhook's migrations and the job queue's (idempotent).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = self.migrator();
        on_db!(self, pool => migrator.run(pool).await).context("applying database migrations")?;
        crate::jobs::setup(self).await
    }

    /// Readiness: the database answers and every embedded migration has been applied.
    pub async fn check_ready(&self) -> Result<(), NotReady> {
        let applied: Vec<i64> = on_db!(self, pool => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(pool)
                .await
        })
        .map_err(|e| NotReady::Unreachable(e.to_string()))?;
        let pending: Vec<i64> = self.migrator().iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect();
        if pending.is_empty() { Ok(()) } else { Err(NotReady::MigrationsPending(pending)) }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await);
    }
}

/// Why `/readyz` says no.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreachable: {0}")]
    Unreachable(String),
    #[error("migrations not applied: {0:?}")]
    MigrationsPending(Vec<i64>),
}

#[cfg(test)]
mod tests {
    use sqlx::postgres::PgPoolOptions;

    use super::{Db, is_loopback};

    #[tokio::test]
    async fn postgres_across_a_network_is_not_on_this_machine() {
        let db = |url| Db::Postgres(PgPoolOptions::new().connect_lazy(url).expect("a valid URL"));
        assert!(db("postgres://postgres@127.0.0.1:5432/billhook").on_this_machine());
        assert!(db("postgres://postgres@localhost/billhook?host=/var/run/postgresql").on_this_machine());
        assert!(!db("postgres://postgres@db.internal:5432/billhook").on_this_machine());
        assert!(!db("postgres://postgres@10.0.0.5/billhook").on_this_machine());
    }

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for host in ["localhost", "127.0.0.1", "127.0.1.1", "::1", "/var/run/postgresql"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["db.example.com", "10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
