//! Account rules: who may sign up, log in, and with which role.

use std::sync::OnceLock;

use super::{Email, Password, PasswordHash, Role, ThrottlePolicy, repo};
use crate::{clock, db::Db, email::Template, jobs::SendEmail};

/// An account as the rest of Billhook sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: &'static str },
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    #[error("wrong e-mail address or password")]
    WrongCredentials,
    #[error("too many failed log-ins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("accounts database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queueing the welcome e-mail: {0}")]
    Enqueue(#[from] crate::jobs::EnqueueError),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("stored account {id} cannot be read: {reason}")]
    CorruptRow { id: i64, reason: String },
}

fn user_from_row(row: repo::UserRow) -> Result<(User, PasswordHash), AccountError> {
    let role = Role::parse(&row.role).map_err(|e| AccountError::CorruptRow { id: row.id, reason: e.to_string() })?;
    Ok((User { id: row.id, email: row.email, role, created_at_ms: row.created_at }, PasswordHash(row.password_hash)))
}

/// Argon2 work off the async runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AccountError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| AccountError::Hashing(format!("the hashing task failed: {e}")))
}

/// A hash that no password matches, verified when the e-mail is unknown so that a log-in takes as
/// long for a missing account as for a wrong password (no account enumeration by timing).
fn decoy_hash() -> &'static PasswordHash {
    static DECOY: OnceLock<PasswordHash> = OnceLock::new();
    DECOY.get_or_init(|| {
        Password::for_login(uuid::Uuid::new_v4().to_string()).hash().expect("hashing a random password")
    })
}

/// The accounts service.
#[derive(Debug, Clone)]
pub struct Accounts {
    db: Db,
    throttle: ThrottlePolicy,
}

impl Accounts {
    pub fn new(db: Db, throttle: ThrottlePolicy) -> Self {
        Self { db, throttle }
    }

    /// Creates a customer account.
    pub async fn sign_up(&self, email: &str, password: String) -> Result<User, AccountError> {
        let email = Email::parse(email).map_err(|message| AccountError::Invalid { field: "email", message })?;
        let password =
            Password::parse(password).map_err(|message| AccountError::Invalid { field: "password", message })?;
        self.insert(email, password, Role::Customer).await
    }

    async fn insert(&self, email: Email, password: Password, role: Role) -> Result<User, AccountError> {
        let hash = blocking(move || password.hash()).await?.map_err(|e| AccountError::Hashing(e.to_string()))?;
        let now = clock::now_ms();
        // Customers get a welcome message, queued with the account itself.
        let jobs = match role {
            Role::Customer => vec![SendEmail::new(email.as_str(), Template::Welcome)],
            Role::Admin | Role::Viewer => Vec::new(),
        };
        match repo::insert_user(&self.db, email.as_str(), &hash.0, role.as_str(), now, &jobs).await {
            Ok(id) => Ok(User { id, email: email.to_string(), role, created_at_ms: now }),
            Err(repo::InsertError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                Err(AccountError::EmailTaken)
            }
            Err(repo::InsertError::Database(e)) => Err(e.into()),
            Err(repo::InsertError::Enqueue(e)) => Err(e.into()),
        }
    }

    /// Creates an account with `role`, or gives an existing one that role and this password.
    pub async fn upsert(&self, email: &str, password: String, role: Role) -> Result<User, AccountError> {
        let email = Email::parse(email).map_err(|message| AccountError::Invalid { field: "email", message })?;
        let password =
            Password::parse(password).map_err(|message| AccountError::Invalid { field: "password", message })?;
        match repo::find_by_email(&self.db, email.as_str()).await? {
            None => self.insert(email, password, role).await,
            Some(row) => {
                let (mut user, _) = user_from_row(row)?;
                let hash =
                    blocking(move || password.hash()).await?.map_err(|e| AccountError::Hashing(e.to_string()))?;
                repo::update_password_and_role(&self.db, user.id, &hash.0, role.as_str()).await?;
                user.role = role;
                Ok(user)
            }
        }
    }

    /// Checks a log-in. Refused while the account or the address `ip` has too many recent
    /// failures; a failure is recorded for both, a success clears the account's failures.
    pub async fn log_in(&self, email: &str, password: String, ip: &str) -> Result<User, AccountError> {
        // An unparsable address cannot match an account: treat it as wrong credentials, but still
        // count it against the address.
        let email_key = Email::parse(email).map(|e| e.to_string()).unwrap_or_else(|_| email.trim().to_lowercase());
        let now = clock::now_ms();
        let since = now - self.throttle.window_ms();
        let (account_failures, ip_failures) = repo::count_failures(&self.db, &email_key, ip, since).await?;
        if account_failures >= i64::from(self.throttle.max_failures_per_account)
            || ip_failures >= i64::from(self.throttle.max_failures_per_ip)
        {
            return Err(AccountError::Throttled { retry_after_secs: self.throttle.window.as_secs() });
        }

        let found = match repo::find_by_email(&self.db, &email_key).await? {
            Some(row) => Some(user_from_row(row)?),
            None => None,
        };
        let password = Password::for_login(password);
        let (user, ok) = match found {
            Some((user, hash)) => {
                let ok = blocking(move || password.verify(&hash)).await?;
                (Some(user), ok)
            }
            None => {
                blocking(move || password.verify(decoy_hash())).await?;
                (None, false)
            }
        };
        match user {
            Some(user) if ok => {
                repo::clear_failures(&self.db, &email_key).await?;
                Ok(user)
            }
            _ => {
                repo::record_failure(&self.db, &email_key, ip, now, since).await?;
                Err(AccountError::WrongCredentials)
            }
        }
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, AccountError> {
        match repo::find_by_id(&self.db, id).await? {
            Some(row) => Ok(Some(user_from_row(row)?.0)),
            None => Ok(None),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, AccountError> {
        let email = Email::parse(email).map_err(|message| AccountError::Invalid { field: "email", message })?;
        match repo::find_by_email(&self.db, &email.to_string()).await? {
            Some(row) => Ok(Some(user_from_row(row)?.0)),
            None => Ok(None),
        }
    }

    /// Newest accounts first, `limit` at most, older than `before_id` when given.
    pub async fn list(&self, before_id: Option<i64>, limit: u32) -> Result<Vec<User>, AccountError> {
        repo::list_users(&self.db, before_id, i64::from(limit))
            .await?
            .into_iter()
            .map(|row| user_from_row(row).map(|(user, _)| user))
            .collect()
    }

    pub async fn count(&self) -> Result<i64, AccountError> {
        Ok(repo::count_users(&self.db).await?)
    }
}
