//! Enqueueing inside the caller's transaction: a job commits or vanishes with the write that
//! asked for it, so "stored" and "queued" can never part. A job's cause - the Stripe event or
//! the schedule it comes from - is written beside it (`job_causes`), in the same transaction,
//! so an operator can follow an event to every job it set off; and so are its arguments'
//! values, for the dashboard's search (`super::arguments`).

use apalis::prelude::{TaskBuilder, TaskId};
use sqlx::{PgConnection, SqliteConnection};
use ulid::Ulid;

use super::Job;
use crate::{clock, db::Tx, on_tx};

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

/// What set a job off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause<'a> {
    /// A Stripe event (`evt_...`): its processing, or a reaction to it.
    Event(&'a str),
    /// A periodic job (its schedule's name).
    Schedule(&'a str),
}

impl Cause<'_> {
    /// How `job_causes` names the kind.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Event(_) => "event",
            Self::Schedule(_) => "schedule",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Self::Event(id) | Self::Schedule(id) => id,
        }
    }
}

/// A job ready to store: its queue, JSON arguments and attempt budget, under an id of
/// Billhook's (a ULID, as apalis would give it).
struct NewJob {
    queue: &'static str,
    task: apalis::prelude::Task<Vec<u8>>,
    /// Its arguments' values, for `job_arguments`.
    indexed: Vec<(String, String)>,
}

impl NewJob {
    fn of<J: Job>(job: &J, id: &str) -> Result<Self, EnqueueError> {
        let serialize = |source| EnqueueError::Serialize { job: J::NAME, source };
        // Serialised once: the tree gives the indexed values, and its bytes are the stored arguments.
        let value = serde_json::to_value(job).map_err(serialize)?;
        let indexed = super::arguments::indexed(&value);
        let args = serde_json::to_vec(&value).map_err(serialize)?;
        let task = TaskBuilder::new(args).task_id(TaskId::from_string(id)).max_attempts(J::MAX_ATTEMPTS).build();
        Ok(Self { queue: job.queue(), task, indexed })
    }
}

/// What is written beside the jobs: each one's cause, if it has one, and its argument values.
#[doc(hidden)]
#[derive(Default)]
pub struct Beside {
    causes: Vec<CausedBy>,
    arguments: Vec<IndexedArgument>,
}

/// A job's id and what caused it.
struct CausedBy {
    task_id: String,
    kind: &'static str,
    cause: String,
}

/// One value of a job's arguments, at its path.
struct IndexedArgument {
    task_id: String,
    path: String,
    value: String,
}

/// A connection (of an open transaction) that jobs can be stored on.
pub trait EnqueueOn: Send {
    #[doc(hidden)]
    fn store(&mut self, jobs: Vec<NewJobs>, beside: Beside) -> impl Future<Output = Result<(), EnqueueError>> + Send;
}

/// Jobs of one queue (PostgreSQL stores them in one statement).
#[doc(hidden)]
pub struct NewJobs {
    queue: &'static str,
    tasks: Vec<apalis::prelude::Task<Vec<u8>>>,
}

/// The `job_causes` and `job_arguments` rows of `beside`, a statement per thousand rows (a
/// statement's bind parameters are bounded, 4 per row here).
fn beside_inserts<DB: sqlx::Database>(beside: &Beside) -> Vec<sqlx::QueryBuilder<DB>>
where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static str: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    const ROWS: usize = 1000;
    let now = clock::now_ms();
    let mut statements = Vec::new();
    for chunk in beside.causes.chunks(ROWS) {
        let mut insert = sqlx::QueryBuilder::new("INSERT INTO job_causes (task_id, cause_kind, cause_id, created_at) ");
        insert.push_values(chunk, |mut row, c| {
            row.push_bind(c.task_id.clone()).push_bind(c.kind).push_bind(c.cause.clone()).push_bind(now);
        });
        statements.push(insert);
    }
    for chunk in beside.arguments.chunks(ROWS) {
        let mut insert = sqlx::QueryBuilder::new("INSERT INTO job_arguments (path, value, task_id, created_at) ");
        insert.push_values(chunk, |mut row, a| {
            row.push_bind(a.path.clone()).push_bind(a.value.clone()).push_bind(a.task_id.clone()).push_bind(now);
        });
        statements.push(insert);
    }
    statements
}

impl EnqueueOn for SqliteConnection {
    async fn store(&mut self, jobs: Vec<NewJobs>, beside: Beside) -> Result<(), EnqueueError> {
        // Before the writes: outside a transaction the first of them commits.
        for queue in jobs.iter().map(|group| group.queue) {
            crate::db::after_commit::after_commit(self, move || super::wakeups::wake(queue)).await?;
        }
        for NewJobs { queue, tasks } in jobs {
            apalis_sqlite::queries::push_tasks(&mut *self, queue, &tasks).await?;
        }
        for mut insert in beside_inserts::<sqlx::Sqlite>(&beside) {
            insert.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}

impl EnqueueOn for PgConnection {
    // Workers everywhere are woken by apalis' NOTIFY trigger, on commit (`super::wakeups`).
    async fn store(&mut self, jobs: Vec<NewJobs>, beside: Beside) -> Result<(), EnqueueError> {
        for NewJobs { queue, tasks } in jobs {
            apalis_postgres::queries::push_tasks(&mut *self, queue, tasks).await?;
        }
        for mut insert in beside_inserts::<sqlx::Postgres>(&beside) {
            insert.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}

impl EnqueueOn for Tx {
    async fn store(&mut self, jobs: Vec<NewJobs>, beside: Beside) -> Result<(), EnqueueError> {
        on_tx!(self, conn => conn.store(jobs, beside).await)
    }
}

/// Queues `jobs` on `conn`, a transaction's connection (or a [`Tx`]): they commit with it. A
/// job that names its own cause ([`Job::cause`]) has it recorded.
pub async fn enqueue<J: Job, C: EnqueueOn>(conn: &mut C, jobs: &[J]) -> Result<(), EnqueueError> {
    store(conn, jobs, None).await
}

/// Queues `jobs` as [`enqueue`] does, each recorded as caused by `cause`.
pub async fn enqueue_because<J: Job, C: EnqueueOn>(
    conn: &mut C,
    cause: Cause<'_>,
    jobs: &[J],
) -> Result<(), EnqueueError> {
    store(conn, jobs, Some(cause)).await
}

async fn store<J: Job, C: EnqueueOn>(conn: &mut C, jobs: &[J], cause: Option<Cause<'_>>) -> Result<(), EnqueueError> {
    let mut by_queue: Vec<NewJobs> = Vec::new();
    let mut beside = Beside::default();
    for job in jobs {
        let id = Ulid::generate().to_string();
        if let Some(cause) = cause.or_else(|| job.cause()) {
            beside.causes.push(CausedBy { task_id: id.clone(), kind: cause.kind(), cause: cause.id().to_owned() });
        }
        let NewJob { queue, task, indexed } = NewJob::of(job, &id)?;
        beside.arguments.extend(indexed.into_iter().map(|(path, value)| IndexedArgument {
            task_id: id.clone(),
            path,
            value,
        }));
        match by_queue.iter_mut().find(|group| group.queue == queue) {
            Some(group) => group.tasks.push(task),
            None => by_queue.push(NewJobs { queue, tasks: vec![task] }),
        }
    }
    if by_queue.is_empty() {
        return Ok(());
    }
    conn.store(by_queue, beside).await
}
