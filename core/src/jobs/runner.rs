//! The worker role: one apalis worker per queue under a Monitor. Every queue's worker is the same
//! concrete apalis handler ([`run_task`]); what differs per job is a type-erased [`Handler`] that
//! decodes the job's arguments and calls its `run`, so adding a job adds no apalis plumbing.

use std::{sync::Arc, time::Duration};

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use futures::future::BoxFuture;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Job, JobContext, JobError, JobServices, attempts::FailedAttempt, backoff, pauses::LiveWorkers, wakeups};
use crate::activity::{self, Activity, Tally};
use crate::{clock, db::Db};

/// Worker settings (from the configuration).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often a worker proves it is alive.
    pub heartbeat: Duration,
    /// Missed heartbeats after which another node re-runs the worker's jobs.
    pub missed_heartbeats: usize,
    /// How often an idle worker looks for jobs no wake-up announced (retries whose time came,
    /// rescued jobs); new jobs wake it at once (`wakeups`).
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
            heartbeat: Duration::from_secs(4),
            missed_heartbeats: 3,
            poll_interval: Duration::from_secs(10),
            concurrency: 8,
            batch_size: 64,
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(60 * 60),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
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

/// A unique worker name per queue and process: apalis refuses (or strands jobs of) a name that
/// is still registered, e.g. by a process that restarted within the heartbeat window.
fn worker_name(queue: &str, restarts: usize) -> String {
    format!("{queue}@{}-{restarts}", node_name())
}

/// Why an attempt failed, and whether another attempt can help.
enum Failure {
    Permanent(String),
    Transient(String),
}

impl Failure {
    fn of(error: &impl JobError) -> Self {
        if error.is_permanent() { Self::Permanent(error.to_string()) } else { Self::Transient(error.to_string()) }
    }
}

/// One job type's work, with its arguments still JSON.
type Handler = Arc<dyn Fn(Value, JobContext) -> BoxFuture<'static, Result<(), Failure>> + Send + Sync>;

fn handler<J: Job>() -> Handler {
    Arc::new(|args, ctx| {
        Box::pin(async move {
            // Arguments that do not decode will not decode on a retry either.
            let job: J = serde_json::from_value(args)
                .map_err(|e| Failure::Permanent(format!("the {} job's arguments do not decode: {e}", J::NAME)))?;
            job.run(&ctx).await.map_err(|e| Failure::of(&e))
        })
    })
}

/// One queue and the job it carries, as its workers see it.
struct QueueWorker {
    queue: &'static str,
    job: &'static str,
    handler: Handler,
    db: Db,
    services: Arc<JobServices>,
    options: WorkerOptions,
    /// This node's counts of finished jobs and failed attempts (the dashboard's charts).
    tally: Tally,
}

/// The jobs to run, by queue (see `jobs::register_all`).
pub struct Registry {
    queues: Vec<(&'static str, &'static str, Handler)>,
}

impl Registry {
    /// Runs job `J` on each of its queues.
    pub fn job<J: Job>(mut self) -> Self {
        for queue in J::QUEUES {
            self.queues.push((queue, J::NAME, handler::<J>()));
        }
        self
    }

    /// Every queue and the job it carries.
    pub fn queues(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.queues.iter().map(|(queue, job, _)| (*queue, *job))
    }

    pub(super) fn new() -> Self {
        Self { queues: Vec::new() }
    }
}

/// Runs one attempt of a job with Billhook's bookkeeping. apalis hands every handler the job,
/// the shared queue worker and the attempt's identity.
async fn run_task(
    args: Value,
    worker: Data<Arc<QueueWorker>>,
    attempt: Attempt,
    task_id: TaskId,
    context: WorkerContext,
) -> Result<(), BoxDynError> {
    let started_at_ms = clock::now_ms();
    let attempt = attempt.current().max(1);
    let ctx = JobContext { db: worker.db.clone(), services: worker.services.clone(), attempt };
    let (permanent, error) = match (worker.handler)(args, ctx).await {
        // Successful attempts are not recorded (one write per job saved): apalis keeps the job
        // row as Done, and the failures before it are in `job_attempts`.
        Ok(()) => {
            worker.tally.add(Activity::JobDone, worker.queue, 1);
            return Ok(());
        }
        Err(Failure::Permanent(error)) => (true, error),
        Err(Failure::Transient(error)) => (false, error),
    };
    worker.tally.add(Activity::JobFailed, worker.queue, 1);
    let task_id = task_id.to_string();
    let (queue, job) = (worker.queue, worker.job);
    let retry_at_secs = (!permanent).then(|| {
        let delay = backoff::delay(attempt, worker.options.retry_base, worker.options.retry_cap, rand::random());
        tracing::warn!(queue, job, task_id, attempt, %error, retry_in = ?delay, "job failed; will retry");
        (clock::now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)) / 1000 + 1
    });
    if permanent {
        tracing::error!(queue, job, task_id, attempt, %error, "job failed for good");
    }
    let failed = FailedAttempt {
        task_id: &task_id,
        queue,
        attempt,
        worker: context.name(),
        started_at_ms,
        error: &error,
        retry_at_secs,
    };
    failed.record(&worker.db).await;
    if let Some(at) = retry_at_secs {
        let due_in_ms = (at * 1000 - clock::now_ms()).max(0);
        wakeups::wake_in(queue, Duration::from_millis(u64::try_from(due_in_ms).unwrap_or(0)));
    }
    let error = std::io::Error::other(error);
    Err(if permanent { AbortError::new(error).into() } else { error.into() })
}

/// Registers the workers of one queue on the monitor, on whichever database this is.
fn register(monitor: Monitor, worker: Arc<QueueWorker>) -> Monitor {
    let opts = worker.options.clone();
    // The two storages take the same settings; only their crates differ.
    macro_rules! on {
        ($pool:expr, $config:ty, $storage:ident) => {{
            let pool = $pool.clone();
            monitor.register(move |restarts| {
                let config = <$config>::default()
                    .queue(worker.queue)
                    .batch_size(opts.batch_size)
                    .heartbeat_interval(opts.heartbeat)
                    .missed_heartbeats(opts.missed_heartbeats);
                let storage = $storage::<Value>::new(&pool).with_config(config);
                WorkerBuilder::new(worker_name(worker.queue, restarts))
                    .backend(storage.poll_with_stream(wakeups::ticks(worker.queue, opts.poll_interval)))
                    .data(worker.clone())
                    .concurrency(opts.concurrency)
                    .build(run_task)
            })
        }};
    }
    // Woken by `wakeups` (one LISTEN connection per process on PostgreSQL), not apalis' own
    // `Pubsub`, which holds a pooled connection per queue for good (the queues starve a pool).
    match &worker.db {
        Db::Sqlite(sqlite) => on!(sqlite.pool(), apalis_sqlite::Config, SqliteStorage),
        Db::Postgres(pool) => on!(pool, apalis_postgres::Config, PostgresStorage),
    }
}

/// Runs the workers of every queue until `shutdown`; then stops taking jobs, lets running ones
/// finish within the timeout, and hands fetched-but-unstarted ones back.
pub async fn run_workers(
    db: Db,
    options: WorkerOptions,
    services: JobServices,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if let Db::Postgres(pool) = &db {
        tokio::spawn(wakeups::listen_until(pool.clone(), shutdown.clone()));
    }
    // Recorded Stripe events onto their queues.
    tokio::spawn(super::dispatch::run_until(db.clone(), options.poll_interval, shutdown.clone()));
    let services = Arc::new(services);
    let tally = Tally::default();
    tokio::spawn(tally.clone().flush_until(db.clone(), node_name(), activity::FLUSH_EVERY, shutdown.clone()));
    // Paused queues (the dashboard) are honoured by every node within a poll.
    let live = LiveWorkers::starting(&db).await;
    tokio::spawn(live.clone().follow(db.clone(), shutdown.clone()));
    let mut monitor = Monitor::new().on_event(move |worker, event| live.on_event(worker, event));
    for (queue, job, handler) in super::register_all(Registry::new()).queues {
        let worker = QueueWorker {
            queue,
            job,
            handler,
            db: db.clone(),
            services: services.clone(),
            options: options.clone(),
            tally: tally.clone(),
        };
        monitor = register(monitor, Arc::new(worker));
    }
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
