//! Throttling of log-ins and sign-ups, kept in the database so that the limits hold across a
//! cluster of web nodes.
//!
//! The policy follows OWASP's authentication cheat sheet: failures are limited per account AND
//! source address, and per source address, instead of locking an account. An attacker guessing
//! one account's password from one address is stopped after a few tries, while its owner, from
//! any other address, still logs in. Sign-ups are limited per source address.
//!
//! Each attempt is counted BEFORE the password is hashed, with one atomic statement that returns
//! the new count: of any number of concurrent guesses, only the limit's worth reach the password
//! check. A success gives its counts back (or clears the account's), so only failures remain.

use std::time::Duration;

use crate::{db::Db, on_db};

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// How long a count lasts (a fixed window per counter, started by its first attempt).
    pub window: Duration,
    /// Failed log-ins to one account from one source address.
    pub max_failures_per_account_and_ip: u32,
    /// Failed log-ins from one source address, whichever the accounts.
    pub max_failures_per_ip: u32,
    /// Sign-ups (accepted or not) from one source address.
    pub max_signups_per_ip: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            max_failures_per_account_and_ip: 5,
            max_failures_per_ip: 50,
            max_signups_per_ip: 10,
        }
    }
}

impl ThrottlePolicy {
    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A counter of attempts: one per account and address, per address, per address signing up.
#[derive(Debug, Clone)]
pub(super) struct Bucket(String);

impl Bucket {
    pub fn login(email: &str, ip: &str) -> Self {
        Self(format!("login:{email} {ip}"))
    }

    pub fn login_ip(ip: &str) -> Self {
        Self(format!("login-ip:{ip}"))
    }

    pub fn signup_ip(ip: &str) -> Self {
        Self(format!("signup-ip:{ip}"))
    }
}

/// An attempt counted in a bucket that was still within its limit.
#[derive(Debug)]
#[must_use = "an attempt is either kept (a failure) or given back"]
pub(super) struct Attempt(Bucket);

/// A bucket over its limit: retry once its window ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct OverLimit {
    pub retry_after: Duration,
}

/// Counts one attempt in `bucket` and tells whether it is within `limit` (this one included).
pub(super) async fn take(
    db: &Db,
    policy: &ThrottlePolicy,
    bucket: Bucket,
    limit: u32,
    now_ms: i64,
) -> sqlx::Result<Result<Attempt, OverLimit>> {
    // A window that started before `expired` is over: the count starts again at this attempt.
    // Both databases evaluate every SET expression on the row as it was, and lock the row (or,
    // for SQLite, the database) for the statement: concurrent attempts get distinct counts.
    let expired = now_ms - policy.window_ms();
    let (attempts, started_at): (i64, i64) = on_db!(db, pool => {
        sqlx::query_as(
            "INSERT INTO auth_throttle (bucket, window_started_at, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket) DO UPDATE SET \
               attempts = CASE WHEN auth_throttle.window_started_at <= $3 THEN 1 ELSE auth_throttle.attempts + 1 END, \
               window_started_at = CASE WHEN auth_throttle.window_started_at <= $3 THEN $2 \
                                        ELSE auth_throttle.window_started_at END \
             RETURNING attempts, window_started_at",
        )
        .bind(&bucket.0)
        .bind(now_ms)
        .bind(expired)
        .fetch_one(pool)
        .await
    })?;
    if attempts <= i64::from(limit) {
        return Ok(Ok(Attempt(bucket)));
    }
    // Refused attempts are not counted: the window is not prolonged by hammering it.
    give_back_bucket(db, &bucket).await?;
    let ends_in_ms = (started_at + policy.window_ms() - now_ms).max(1000);
    Ok(Err(OverLimit { retry_after: Duration::from_millis(u64::try_from(ends_in_ms).unwrap_or(u64::MAX)) }))
}

impl Attempt {
    /// Uncounts this attempt (it succeeded, or another limit refused it).
    pub async fn give_back(self, db: &Db) -> sqlx::Result<()> {
        give_back_bucket(db, &self.0).await
    }

    /// Clears the bucket: every failure in it is forgiven (its account logged in from there).
    pub async fn clear(self, db: &Db) -> sqlx::Result<()> {
        on_db!(db, pool => sqlx::query("DELETE FROM auth_throttle WHERE bucket = $1").bind(&self.0.0).execute(pool).await.map(drop))?;
        Ok(())
    }
}

async fn give_back_bucket(db: &Db, bucket: &Bucket) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query("UPDATE auth_throttle SET attempts = attempts - 1 WHERE bucket = $1 AND attempts > 0")
            .bind(&bucket.0)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok(())
}
