//! What a job is: a serialisable value with a name, its queue(s), an attempt budget, an error
//! type that knows whether retrying can help, and `run`. One file per job in this folder, one
//! line in `register_all` (as crates.io's `BackgroundJob`).

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

use billhook_model::Catalogue;

use crate::{custom_domains::CertificateAuthority, db::Db, email::Mailer, stripe_api::StripeApi};

/// A background job. Its value is its arguments (stored as JSON in the job row), so a rename of
/// a field is a migration of queued jobs: add fields with `#[serde(default)]`.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job's name, in logs and for operators.
    const NAME: &'static str;
    /// The queues workers take this job from, pinned here (a queue named after a Rust type would
    /// be orphaned by a rename). Most jobs have one; a job that routes itself has several.
    const QUEUES: &'static [&'static str];
    /// Attempts before the job is dead (it stays visible, with every attempt's error).
    const MAX_ATTEMPTS: usize;
    /// What `run` fails with.
    type Error: JobError;

    /// The queue this job goes on: the first of [`Job::QUEUES`] unless the job routes itself.
    fn queue(&self) -> &'static str {
        Self::QUEUES[0]
    }

    /// What set this job off, when the job itself knows (an event's processing names its
    /// event); otherwise the caller says ([`super::enqueue_because`]) or nothing is recorded.
    fn cause(&self) -> Option<super::Cause<'_>> {
        None
    }

    /// Does the work. Must be idempotent: a job can run again after a crash or on another node.
    fn run(&self, ctx: &JobContext) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// A job's error that knows whether another attempt can help.
pub trait JobError: std::error::Error + Send + Sync + 'static {
    /// True: retrying cannot help, the job is dead at once. False: retried after the backoff.
    fn is_permanent(&self) -> bool;
}

/// The outside services jobs use, built from the configuration.
#[derive(Debug, Clone)]
pub struct JobServices {
    pub mailer: Mailer,
    pub certificates: CertificateAuthority,
    /// Stripe, or the offline sandbox; None when neither is configured.
    pub stripe: Option<StripeApi>,
    /// The subscription types on sale (which needs which).
    pub catalogue: Arc<Catalogue>,
}

/// What a job's `run` gets: the database, the services, and which attempt this is.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub db: Db,
    pub services: Arc<JobServices>,
    /// 1 for the first run.
    pub attempt: usize,
}
