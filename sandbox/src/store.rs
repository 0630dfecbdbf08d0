//! Every sandbox object, kept as Stripe's JSON in `sandbox_objects` (in Billhook's database, so
//! every node of a cluster sees one sandbox), and listed newest first as Stripe lists.

use billhook_core::{Db, on_db};
use rand::{Rng, distributions::Alphanumeric};
use serde_json::Value;

use crate::error::ApiError;

/// A new id with Stripe's prefix for the kind (`cus`, `prod`, `price`, `evt`, ...).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_token(24))
}

/// `len` random letters and digits (ids, keys, secrets).
pub fn random_token(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// The sandbox's objects.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

/// One page of a list request (Stripe's `limit`, `starting_after`, `ending_before`).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

fn id_of(object: &Value) -> &str {
    object["id"].as_str().unwrap_or_default()
}

fn decode(body: &str) -> Result<Value, ApiError> {
    serde_json::from_str(body).map_err(|e| ApiError::storage(&sqlx::Error::Decode(Box::new(e))))
}

impl Store {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stores a new object (its `id`, `object` and `created` fields are indexed).
    pub async fn insert(&self, object: &Value) -> Result<(), ApiError> {
        let body = object.to_string();
        on_db!(&self.db, pool => {
            sqlx::query("INSERT INTO sandbox_objects (id, object, created, body) VALUES ($1, $2, $3, $4)")
                .bind(id_of(object))
                .bind(object["object"].as_str().unwrap_or_default())
                .bind(object["created"].as_i64().unwrap_or_default())
                .bind(&body)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Replaces a stored object with its new state.
    pub async fn update(&self, object: &Value) -> Result<(), ApiError> {
        let body = object.to_string();
        on_db!(&self.db, pool => {
            sqlx::query("UPDATE sandbox_objects SET body = $2 WHERE id = $1").bind(id_of(object)).bind(&body).execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }

    /// The object `id`, of any kind.
    pub async fn find(&self, id: &str) -> Result<Option<Value>, ApiError> {
        let body: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT body FROM sandbox_objects WHERE id = $1").bind(id).fetch_optional(pool).await
        })?;
        body.as_deref().map(decode).transpose()
    }

    /// The object `id` if it is a `kind`; else Stripe's "No such ..." naming `param`.
    pub async fn get(&self, kind: &str, id: &str, param: &str) -> Result<Value, ApiError> {
        match self.find(id).await? {
            Some(object) if object["object"] == kind => Ok(object),
            _ => Err(ApiError::no_such(kind, id, param)),
        }
    }

    /// The `seq` of object `id` of `kind` (a list cursor), or Stripe's error naming `param`.
    async fn cursor(&self, kind: &str, id: &str, param: &str) -> Result<i64, ApiError> {
        let seq: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT seq FROM sandbox_objects WHERE id = $1 AND object = $2").bind(id).bind(kind).fetch_optional(pool).await
        })?;
        seq.ok_or_else(|| ApiError::no_such(kind, id, param))
    }

    /// One page of the `kind` objects that `keep` accepts, newest first, and whether more follow.
    pub async fn list(
        &self,
        kind: &str,
        page: &Page,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<(Vec<Value>, bool), ApiError> {
        const CHUNK: i64 = 200;
        // Walking backwards in time from `starting_after`, or forwards from `ending_before`.
        let forward = page.ending_before.is_some() && page.starting_after.is_none();
        let mut bound = match (&page.starting_after, &page.ending_before) {
            (Some(after), _) => self.cursor(kind, after, "starting_after").await?,
            (None, Some(before)) => self.cursor(kind, before, "ending_before").await?,
            (None, None) => i64::MAX,
        };
        let mut found = Vec::new();
        loop {
            let sql = if forward {
                "SELECT seq, body FROM sandbox_objects WHERE object = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3"
            } else {
                "SELECT seq, body FROM sandbox_objects WHERE object = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
            };
            let rows: Vec<(i64, String)> =
                on_db!(&self.db, pool => sqlx::query_as(sql).bind(kind).bind(bound).bind(CHUNK).fetch_all(pool).await)?;
            let exhausted = rows.len() < usize::try_from(CHUNK).unwrap_or(usize::MAX);
            for (seq, body) in rows {
                bound = seq;
                let object = decode(&body)?;
                if keep(&object) {
                    found.push(object);
                    if found.len() > page.limit {
                        break;
                    }
                }
            }
            if found.len() > page.limit || exhausted {
                break;
            }
        }
        let has_more = found.len() > page.limit;
        found.truncate(page.limit);
        if forward {
            found.reverse();
        }
        Ok((found, has_more))
    }
}
