//! The worker role: one apalis worker per queue under a Monitor, with Billhook's retry
//! bookkeeping around each handler.

use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use tokio_util::sync::CancellationToken;

use super::{
    ProcessEvent, backoff,
    canary::{self, Canary},
    queues,
};
use crate::{
    clock,
    db::{Db, Sql},
    custom_domains::{CertificateAuthority, CertificateError, ProvisionCertificate},
    email::{EmailError, Mailer, SendEmail},
    events::{ProcessError, process_event},
    exports::{self, ExportData, ExportError},
    on_db,
};

/// Worker settings (from the configuration).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often a worker proves it is alive.
    pub heartbeat: Duration,
    /// Missed heartbeats after which another node re-runs the worker's jobs.
    pub missed_heartbeats: usize,
    /// How often an idle worker looks for new jobs.
    pub poll_interval: Duration,
    /// Jobs run at once per queue on this node.
    pub concurrency: usize,
    /// Jobs a worker claims per fetch.
    pub batch_size: usize,
    /// First retry delay; doubles per attempt up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// On shutdown, how long running jobs may take to finish.
    pub shutdown_timeout: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            missed_heartbeats: 3,
            poll_interval: Duration::from_millis(100),
            concurrency: 8,
            batch_size: 64,
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(60 * 60),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// The outside services jobs use, built from the configuration.
#[derive(Debug, Clone)]
pub struct JobServices {
    pub mailer: Mailer,
    pub certificates: CertificateAuthority,
}

/// What every job handler gets.
#[derive(Debug, Clone)]
struct JobContext {
    db: Db,
    queue: &'static str,
    options: WorkerOptions,
    services: JobServices,
}

/// A unique worker name per queue and process: apalis refuses (or strands jobs of) a name that
/// is still registered, e.g. by a process that restarted within the heartbeat window.
fn worker_name(queue: &str, restarts: usize) -> String {
    format!("{queue}@{}-{restarts}", node_name())
}

/// This process, as the cluster sees it: host, pid and start time (unique across restarts).
pub fn node_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host =
            std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
        format!("{host}-{}-{}", std::process::id(), clock::now_ms())
    })
    .clone()
}

const SET_RUN_AT: Sql = Sql {
    sqlite: "UPDATE Jobs SET run_at = $1 WHERE id = $2",
    postgres: "UPDATE apalis.jobs SET run_at = to_timestamp($1) WHERE id = $2",
};

/// Keeps the attempt, and for a retry writes its run time to the job row before apalis marks
/// the job failed (apalis' fetch honours `run_at` for failed jobs).
async fn bookkeep(
    ctx: &JobContext,
    task_id: &str,
    attempt: usize,
    worker: &str,
    started: i64,
    error: Option<&str>,
    retry_at_secs: Option<i64>,
) {
    let finished = clock::now_ms();
    let result = async {
        if let Some(retry_at) = retry_at_secs {
            let sql = ctx.db.sql(&SET_RUN_AT);
            on_db!(&ctx.db, pool => sqlx::query(sql).bind(retry_at).bind(task_id).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        on_db!(&ctx.db, pool => {
            sqlx::query(
                "INSERT INTO job_attempts (task_id, queue, attempt, worker, started_at, finished_at, error, retry_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(task_id)
            .bind(ctx.queue)
            .bind(i64::try_from(attempt).unwrap_or(i64::MAX))
            .bind(worker)
            .bind(started)
            .bind(finished)
            .bind(error)
            .bind(retry_at_secs.map(|s| s * 1000))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, task_id, "could not record the job attempt");
    }
}

/// Why a job attempt failed, and whether another attempt can help.
enum Failure {
    /// Retrying cannot help: the job is dead at once (and kept with its error).
    Permanent(String),
    /// Retry after the backoff.
    Transient(String),
}

/// Runs one attempt of a job with Billhook's bookkeeping: every attempt recorded with its
/// error, a transient failure's retry time written to the job row.
async fn attempt_job<F>(
    ctx: &JobContext,
    attempt: &Attempt,
    task_id: &TaskId,
    worker: &WorkerContext,
    work: F,
) -> Result<(), BoxDynError>
where
    F: Future<Output = Result<(), Failure>>,
{
    let started = clock::now_ms();
    let attempt = attempt.current().max(1);
    let task_id = task_id.to_string();
    match work.await {
        // Successful attempts are not recorded (one write per job saved): apalis keeps the job
        // row as Done, and the failures before it are in `job_attempts`.
        Ok(()) => Ok(()),
        Err(Failure::Permanent(message)) => {
            tracing::error!(queue = ctx.queue, task_id, error = %message, "job failed for good");
            bookkeep(ctx, &task_id, attempt, worker.name(), started, Some(&message), None).await;
            Err(AbortError::new(std::io::Error::other(message)).into())
        }
        Err(Failure::Transient(message)) => {
            let delay = backoff::delay(attempt, ctx.options.retry_base, ctx.options.retry_cap, rand::random());
            let retry_at = (clock::now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)) / 1000 + 1;
            tracing::warn!(queue = ctx.queue, task_id, attempt, error = %message, retry_in = ?delay, "job failed; will retry");
            bookkeep(ctx, &task_id, attempt, worker.name(), started, Some(&message), Some(retry_at)).await;
            Err(message.into())
        }
    }
}

/// A job's error that knows whether another attempt can help.
trait JobError: std::fmt::Display {
    fn is_permanent(&self) -> bool;
}

impl JobError for ProcessError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::NotFound(_) | Self::BadPayload(_))
    }
}

impl JobError for EmailError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::Invalid(_))
    }
}

impl JobError for ExportError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

impl JobError for CertificateError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

/// A database error (the canary's only kind): worth another attempt.
impl JobError for sqlx::Error {
    fn is_permanent(&self) -> bool {
        false
    }
}

impl Failure {
    fn of(error: impl JobError) -> Self {
        if error.is_permanent() { Self::Permanent(error.to_string()) } else { Self::Transient(error.to_string()) }
    }
}

// The handlers: apalis hands each its job, the shared context and the attempt's identity.

async fn run_process_event(
    job: ProcessEvent,
    ctx: Data<JobContext>,
    attempt: Attempt,
    task_id: TaskId,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    attempt_job(&ctx, &attempt, &task_id, &worker, async {
        let outcome = process_event(&ctx.db, &job.event_id).await.map_err(Failure::of)?;
        tracing::debug!(event = %job.event_id, ?outcome, "event processed");
        Ok(())
    })
    .await
}

async fn run_canary(
    job: Canary,
    ctx: Data<JobContext>,
    attempt: Attempt,
    task_id: TaskId,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    let current = attempt.current().max(1);
    attempt_job(&ctx, &attempt, &task_id, &worker, async {
        canary::run(&ctx.db, &job, &node_name(), current).await.map_err(Failure::of)
    })
    .await
}

async fn run_send_email(
    mail: SendEmail,
    ctx: Data<JobContext>,
    attempt: Attempt,
    task_id: TaskId,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    attempt_job(&ctx, &attempt, &task_id, &worker, async {
        let outcome = ctx.services.mailer.deliver(&ctx.db, &mail).await.map_err(Failure::of)?;
        tracing::debug!(id = %mail.id, template = mail.template.name(), ?outcome, "e-mail handled");
        Ok(())
    })
    .await
}

async fn run_export_data(
    job: ExportData,
    ctx: Data<JobContext>,
    attempt: Attempt,
    task_id: TaskId,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    attempt_job(&ctx, &attempt, &task_id, &worker, async {
        exports::build(&ctx.db, &job.export_id).await.map_err(Failure::of)
    })
    .await
}

async fn run_provision_certificate(
    job: ProvisionCertificate,
    ctx: Data<JobContext>,
    attempt: Attempt,
    task_id: TaskId,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    attempt_job(&ctx, &attempt, &task_id, &worker, async {
        let outcome = ctx.services.certificates.provision(&ctx.db, &job.domain_id).await.map_err(Failure::of)?;
        tracing::debug!(domain = %job.domain_id, ?outcome, "certificate job done");
        Ok(())
    })
    .await
}

/// Registers a worker for `$queue` on the monitor, on whichever database `$db` is. Only the
/// storage differs between the two; the worker around it is built once (`build`).
macro_rules! register_worker {
    ($monitor:expr, $db:expr, $queue:expr, $args:ty, $handler:expr, $ctx:expr, $opts:expr) => {{
        let (queue, ctx, opts) = ($queue, $ctx, $opts);
        macro_rules! build {
            ($storage:expr, $restarts:expr) => {
                WorkerBuilder::new(worker_name(queue, $restarts))
                    .backend($storage)
                    .data(ctx.clone())
                    .concurrency(opts.concurrency)
                    .build($handler)
            };
        }
        // The two storages take the same settings; only their crates differ.
        macro_rules! on {
            ($pool:expr, $config:ty, $storage:ident) => {{
                let pool = $pool.clone();
                $monitor.register(move |restarts| {
                    let config = <$config>::default()
                        .queue(queue)
                        .batch_size(opts.batch_size)
                        .heartbeat_interval(opts.heartbeat)
                        .missed_heartbeats(opts.missed_heartbeats);
                    let storage = $storage::<$args>::new(&pool).with_config(config);
                    build!(storage.poll_with_interval(opts.poll_interval), restarts)
                })
            }};
        }
        // Polling on PostgreSQL too, not apalis' LISTEN/NOTIFY `Pubsub`: that holds a pooled
        // connection per queue for good (six queues starve a small pool).
        match $db {
            Db::Sqlite(pool) => on!(pool, apalis_sqlite::Config, SqliteStorage),
            Db::Postgres(pool) => on!(pool, apalis_postgres::Config, PostgresStorage),
        }
    }};
}

/// Runs the workers of every queue until `shutdown`; then stops taking jobs, lets running ones
/// finish within the timeout, and hands fetched-but-unstarted ones back.
pub async fn run_workers(
    db: Db,
    options: WorkerOptions,
    services: JobServices,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut monitor = Monitor::new();
    let context = |queue| JobContext { db: db.clone(), queue, options: options.clone(), services: services.clone() };
    for queue in queues::EVENT_QUEUES {
        monitor =
            register_worker!(monitor, &db, queue, ProcessEvent, run_process_event, context(queue), options.clone());
    }
    let canaries = queues::SYSTEM_CANARY;
    monitor = register_worker!(monitor, &db, canaries, Canary, run_canary, context(canaries), options.clone());
    let email = queues::EMAIL;
    monitor = register_worker!(monitor, &db, email, SendEmail, run_send_email, context(email), options.clone());
    let exports_queue = queues::EXPORTS;
    monitor = register_worker!(
        monitor,
        &db,
        exports_queue,
        ExportData,
        run_export_data,
        context(exports_queue),
        options.clone()
    );
    let certificates = queues::CERTIFICATES;
    monitor = register_worker!(
        monitor,
        &db,
        certificates,
        ProvisionCertificate,
        run_provision_certificate,
        context(certificates),
        options.clone()
    );
    monitor
        .should_restart(|worker, error| {
            // A worker whose database went away stops; start it again (with a new name).
            tracing::warn!(worker = worker.name(), %error, "worker stopped; restarting");
            true
        })
        .shutdown_timeout(options.shutdown_timeout)
        .run_with_signal(async move {
            shutdown.cancelled().await;
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("job workers: {e}"))
}
