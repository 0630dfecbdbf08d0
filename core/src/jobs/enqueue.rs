//! Enqueueing inside the caller's transaction: a job commits or vanishes with the write that
//! asked for it, so "stored" and "queued" can never part.

use apalis::prelude::TaskBuilder;
use sqlx::{PgConnection, SqliteConnection};

use super::Job;
use crate::{db::Tx, on_tx};

/// Why a job could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("the {job} job's arguments cannot be serialised: {source}")]
    Serialize {
        job: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("storing the job: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the job queue refused the job: {0}")]
    Queue(String),
}

impl From<apalis_sqlite::Error> for EnqueueError {
    fn from(e: apalis_sqlite::Error) -> Self {
        match e {
            apalis_sqlite::Error::Database(e) => Self::Database(e),
            other => Self::Queue(other.to_string()),
        }
    }
}

impl From<apalis_postgres::Error> for EnqueueError {
    fn from(e: apalis_postgres::Error) -> Self {
        match e {
            apalis_postgres::Error::Database(e) => Self::Database(e),
            other => Self::Queue(other.to_string()),
        }
    }
}

/// A job ready to store: its queue, JSON arguments and attempt budget.
struct NewJob {
    queue: &'static str,
    task: apalis::prelude::Task<Vec<u8>>,
}

impl NewJob {
    fn of<J: Job>(job: &J) -> Result<Self, EnqueueError> {
        let args = serde_json::to_vec(job).map_err(|source| EnqueueError::Serialize { job: J::NAME, source })?;
        Ok(Self { queue: job.queue(), task: TaskBuilder::new(args).max_attempts(J::MAX_ATTEMPTS).build() })
    }
}

/// A connection (of an open transaction) that jobs can be stored on.
pub trait EnqueueOn: Send {
    #[doc(hidden)]
    fn store(&mut self, jobs: Vec<NewJobs>) -> impl Future<Output = Result<(), EnqueueError>> + Send;
}

/// Jobs of one queue (PostgreSQL stores them in one statement).
#[doc(hidden)]
pub struct NewJobs {
    queue: &'static str,
    tasks: Vec<apalis::prelude::Task<Vec<u8>>>,
}

impl EnqueueOn for SqliteConnection {
    async fn store(&mut self, jobs: Vec<NewJobs>) -> Result<(), EnqueueError> {
        for NewJobs { queue, tasks } in jobs {
            apalis_sqlite::queries::push_tasks(self, queue, &tasks).await?;
        }
        Ok(())
    }
}

impl EnqueueOn for PgConnection {
    async fn store(&mut self, jobs: Vec<NewJobs>) -> Result<(), EnqueueError> {
        for NewJobs { queue, tasks } in jobs {
            apalis_postgres::queries::push_tasks(self, queue, tasks).await?;
        }
        Ok(())
    }
}

impl EnqueueOn for Tx {
    async fn store(&mut self, jobs: Vec<NewJobs>) -> Result<(), EnqueueError> {
        on_tx!(self, conn => conn.store(jobs).await)
    }
}

/// Queues `jobs` on `conn`, a transaction's connection (or a [`Tx`]): they commit with it.
pub async fn enqueue<J: Job, C: EnqueueOn>(conn: &mut C, jobs: &[J]) -> Result<(), EnqueueError> {
    let mut by_queue: Vec<NewJobs> = Vec::new();
    for job in jobs {
        let NewJob { queue, task } = NewJob::of(job)?;
        match by_queue.iter_mut().find(|group| group.queue == queue) {
            Some(group) => group.tasks.push(task),
            None => by_queue.push(NewJobs { queue, tasks: vec![task] }),
        }
    }
    if by_queue.is_empty() {
        return Ok(());
    }
    conn.store(by_queue).await
}
