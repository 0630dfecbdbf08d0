//! tower-sessions store on Billhook's own database (SQLite or PostgreSQL, sqlx 0.9).
//!
//! The published `tower-sessions-sqlx-store` is built on sqlx 0.8, which cannot share a tree with
//! the sqlx 0.9 that the job queue requires; this is the same contract in a few queries.

use async_trait::async_trait;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};

use crate::{clock, db::Db, on_db};

/// Sessions kept in the `sessions` table; the data is JSON, the expiry unix milliseconds.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

impl DbSessionStore {
    /// Writes `record` with `sql` (an INSERT whose conflict clause decides create or save);
    /// returns the number of rows written.
    async fn write(&self, sql: &'static str, record: &Record) -> session_store::Result<u64> {
        let data = encode(record)?;
        let expires_at = clock::to_ms(record.expiry_date);
        let id = record.id.to_string();
        on_db!(&self.db, pool => {
            sqlx::query(sql).bind(id).bind(data).bind(expires_at).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(backend)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are random 128-bit numbers; a collision is astronomically unlikely, but never
        // overwrite another session if one happens.
        const INSERT_NEW: &str =
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";
        while self.write(INSERT_NEW, record).await? == 0 {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        const UPSERT: &str = "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at";
        self.write(UPSERT, record).await.map(|_| ())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = session_id.to_string();
        let row: Option<(String, i64)> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(clock::now_ms())
                .fetch_optional(pool)
                .await
        })
        .map_err(backend)?;
        row.map(|(data, expires_at)| {
            Ok(Record {
                id: *session_id,
                data: serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?,
                expiry_date: clock::from_ms(expires_at),
            })
        })
        .transpose()
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let id = session_id.to_string();
        on_db!(&self.db, pool => {
            sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        on_db!(&self.db, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(clock::now_ms()).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(backend)?;
        Ok(())
    }
}
