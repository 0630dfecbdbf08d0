//! The accounts' SQL, one statement for both databases.

use crate::{
    db::Db,
    jobs::{self, EnqueueError, SendEmail},
    on_db,
};

#[derive(Debug, sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

/// `SELECT <user columns> FROM users <rest>` as one literal.
macro_rules! select_users {
    ($rest:literal) => {
        concat!("SELECT id, email, password_hash, role, created_at FROM users ", $rest)
    };
}

/// Inserting a user: the row, or the mail queued with it.
#[derive(Debug, thiserror::Error)]
pub(super) enum InsertError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
}

/// Inserts a user and queues `mail` (e.g. the welcome e-mail) in the same transaction.
pub(super) async fn insert_user(
    db: &Db,
    email: &str,
    hash: &str,
    role: &str,
    now: i64,
    mail: &[SendEmail],
) -> Result<i64, InsertError> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar("INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(email)
            .bind(hash)
            .bind(role)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        jobs::enqueue(&mut *tx, mail).await?;
        tx.commit().await?;
        Ok(id)
    })
}

pub(super) async fn update_password_and_role(db: &Db, id: i64, hash: &str, role: &str) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query("UPDATE users SET password_hash = $1, role = $2 WHERE id = $3")
            .bind(hash)
            .bind(role)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub(super) async fn find_by_email(db: &Db, email: &str) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = select_users!("WHERE email = $1");
    on_db!(db, pool => sqlx::query_as(SQL).bind(email).fetch_optional(pool).await)
}

pub(super) async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = select_users!("WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)
}

/// Newest first, `limit` at most, keyset-paged by id.
pub(super) async fn list_users(db: &Db, before_id: Option<i64>, limit: i64) -> sqlx::Result<Vec<UserRow>> {
    const SQL: &str = select_users!("WHERE id < $1 ORDER BY id DESC LIMIT $2");
    let before = before_id.unwrap_or(i64::MAX);
    on_db!(db, pool => sqlx::query_as(SQL).bind(before).bind(limit).fetch_all(pool).await)
}

pub(super) async fn count_users(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)
}
