//! Account rules: who may sign up, log in, and with which role.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::Semaphore;

use super::{
    Email, Password, PasswordHash, Role, ThrottlePolicy, repo,
    throttle::{self, Bucket, OverLimit},
};
use crate::{clock, db::Db, email::Template, jobs::SendEmail};

/// An account as the rest of Billhook sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at_ms: i64,
    /// Changes whenever the password does: a session keeps it and ends when it no longer matches.
    pub credentials_stamp: String,
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
    #[error("too many sign-ups from this address; try again in {retry_after_secs} seconds")]
    SignUpsThrottled { retry_after_secs: u64 },
    #[error("too many passwords are being checked at once; try again shortly")]
    Busy,
    #[error("accounts database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queueing the welcome e-mail: {0}")]
    Enqueue(#[from] crate::jobs::EnqueueError),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("stored account {id} cannot be read: {reason}")]
    CorruptRow { id: i64, reason: String },
}

impl From<OverLimit> for AccountError {
    fn from(over: OverLimit) -> Self {
        Self::Throttled { retry_after_secs: over.retry_after.as_secs() }
    }
}

fn user_from_row(row: repo::UserRow) -> Result<(User, PasswordHash), AccountError> {
    let role = Role::parse(&row.role).map_err(|e| AccountError::CorruptRow { id: row.id, reason: e.to_string() })?;
    let hash = PasswordHash(row.password_hash);
    let user =
        User { id: row.id, email: row.email, role, created_at_ms: row.created_at, credentials_stamp: hash.stamp() };
    Ok((user, hash))
}

/// How long a password check waits for its turn before the caller is told the server is busy.
const HASH_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Bounds the Argon2 work running at once (each hash holds 19 MiB and a core for tens of
/// milliseconds): a flood of sign-ups or log-ins queues here instead of taking every core and the
/// blocking pool from the webhook endpoint, which must answer in milliseconds.
#[derive(Debug, Clone)]
struct HashGate {
    permits: Arc<Semaphore>,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl HashGate {
    fn new(at_once: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(at_once.max(1))),
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `f` (Argon2 work) off the async runtime's threads once a permit is free.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AccountError> {
        let permit = tokio::time::timeout(HASH_QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AccountError::Busy)?
            .map_err(|_| AccountError::Busy)?;
        let running = self.running.clone();
        let now_running = running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now_running, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(move || {
            let value = f();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            value
        })
        .await;
        result.map_err(|e| AccountError::Hashing(format!("the hashing task failed: {e}")))
    }
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
    hashing: HashGate,
}

impl Accounts {
    /// `hashes_at_once`: how many password hashes may run at the same time (at least one).
    pub fn new(db: Db, throttle: ThrottlePolicy, hashes_at_once: usize) -> Self {
        Self { db, throttle, hashing: HashGate::new(hashes_at_once) }
    }

    /// The most password hashes that ran at the same time since this service started.
    pub fn peak_hashes_at_once(&self) -> usize {
        self.hashing.peak.load(Ordering::SeqCst)
    }

    /// Creates a customer account for a visitor at address `ip`. Sign-ups are limited per address
    /// (each attempt counts, so taken addresses cannot be probed at speed), and a taken address is
    /// answered before any password is hashed.
    pub async fn sign_up(&self, email: &str, password: String, ip: &str) -> Result<User, AccountError> {
        let email = Email::parse(email).map_err(|message| AccountError::Invalid { field: "email", message })?;
        let password =
            Password::parse(password).map_err(|message| AccountError::Invalid { field: "password", message })?;
        let now = clock::now_ms();
        let limit = self.throttle.max_signups_per_ip;
        // Kept whatever the outcome: the limit is on attempts, not on failures.
        let _counted = throttle::take(&self.db, &self.throttle, Bucket::signup_ip(ip), limit, now)
            .await?
            .map_err(|over| AccountError::SignUpsThrottled { retry_after_secs: over.retry_after.as_secs() })?;
        if repo::find_by_email(&self.db, email.as_str()).await?.is_some() {
            return Err(AccountError::EmailTaken);
        }
        self.insert(email, password, Role::Customer).await
    }

    async fn insert(&self, email: Email, password: Password, role: Role) -> Result<User, AccountError> {
        let hash =
            self.hashing.run(move || password.hash()).await?.map_err(|e| AccountError::Hashing(e.to_string()))?;
        let now = clock::now_ms();
        // Customers get a welcome message, queued with the account itself.
        let jobs = match role {
            Role::Customer => vec![SendEmail::new(email.as_str(), Template::Welcome)],
            Role::Admin | Role::Viewer => Vec::new(),
        };
        match repo::insert_user(&self.db, email.as_str(), &hash.0, role.as_str(), now, &jobs).await {
            Ok(id) => {
                Ok(User { id, email: email.to_string(), role, created_at_ms: now, credentials_stamp: hash.stamp() })
            }
            Err(repo::InsertError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                Err(AccountError::EmailTaken)
            }
            Err(repo::InsertError::Database(e)) => Err(e.into()),
            Err(repo::InsertError::Enqueue(e)) => Err(e.into()),
        }
    }

    /// Creates an account with `role`, or gives an existing one that role and this password (which
    /// ends the account's sessions: their credentials stamp no longer matches).
    pub async fn upsert(&self, email: &str, password: String, role: Role) -> Result<User, AccountError> {
        let email = Email::parse(email).map_err(|message| AccountError::Invalid { field: "email", message })?;
        let password =
            Password::parse(password).map_err(|message| AccountError::Invalid { field: "password", message })?;
        match repo::find_by_email(&self.db, email.as_str()).await? {
            None => self.insert(email, password, role).await,
            Some(row) => {
                let (mut user, _) = user_from_row(row)?;
                let hash = self
                    .hashing
                    .run(move || password.hash())
                    .await?
                    .map_err(|e| AccountError::Hashing(e.to_string()))?;
                repo::update_password_and_role(&self.db, user.id, &hash.0, role.as_str()).await?;
                user.role = role;
                user.credentials_stamp = hash.stamp();
                Ok(user)
            }
        }
    }

    /// Checks a log-in from address `ip`. Refused, before any password is checked, once this
    /// account has had too many failures from this address, or this address too many failures
    /// for any accounts, within the window (see [`throttle`](super::throttle)); the account's
    /// owner at another address is not affected.
    pub async fn log_in(&self, email: &str, password: String, ip: &str) -> Result<User, AccountError> {
        // An unparsable address cannot match an account: treat it as wrong credentials, but still
        // count it against the address.
        let email_key = Email::parse(email).map(|e| e.to_string()).unwrap_or_else(|_| email.trim().to_lowercase());
        let now = clock::now_ms();
        let policy = &self.throttle;
        let from_ip = throttle::take(&self.db, policy, Bucket::login_ip(ip), policy.max_failures_per_ip, now).await??;
        let pair = Bucket::login(&email_key, ip);
        let on_account =
            match throttle::take(&self.db, policy, pair, policy.max_failures_per_account_and_ip, now).await? {
                Ok(attempt) => attempt,
                Err(over) => {
                    from_ip.give_back(&self.db).await?;
                    return Err(over.into());
                }
            };

        let found = match repo::find_by_email(&self.db, &email_key).await? {
            Some(row) => Some(user_from_row(row)?),
            None => None,
        };
        let password = Password::for_login(password);
        let checked = match found {
            Some((user, hash)) => self.hashing.run(move || password.verify(&hash)).await.map(|ok| (Some(user), ok)),
            None => self.hashing.run(move || password.verify(decoy_hash())).await.map(|_| (None, false)),
        };
        // Not checked (the server was busy): not a failure either.
        let (user, ok) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                on_account.give_back(&self.db).await?;
                from_ip.give_back(&self.db).await?;
                return Err(e);
            }
        };
        match user {
            Some(user) if ok => {
                on_account.clear(&self.db).await?;
                from_ip.give_back(&self.db).await?;
                Ok(user)
            }
            // Both attempts stay counted: they are the failure.
            _ => Err(AccountError::WrongCredentials),
        }
    }

    /// The account a session signed in as, while its password is the one the session was
    /// signed in with (`stamp`); None once it changed or the account is gone.
    pub async fn session_user(&self, id: i64, stamp: &str) -> Result<Option<User>, AccountError> {
        Ok(self.user_by_id(id).await?.filter(|user| user.credentials_stamp == stamp))
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
