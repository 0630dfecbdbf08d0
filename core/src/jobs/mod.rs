//! Background jobs on apalis, on the same database as everything else (SQLite or PostgreSQL).
//!
//! A job is a type with `impl Job` in a file of its own here (its queue, attempt budget, error
//! and `run`, which calls its domain module), registered by one line in [`register_all`].
//! What Billhook adds around apalis (its engine):
//! - queue names pinned on each job, not derived from Rust type names;
//! - jobs enqueued inside the caller's transaction ([`enqueue`]), so "stored" and "queued"
//!   commit together; recorded Stripe events are queued by every worker node's [`dispatch`]er;
//! - retries whose next run time is written to the job row (exponential backoff with jitter), so a
//!   crash or another node never retries early - apalis' own retry layer only sleeps in memory
//!   and its storages re-fetch failed jobs at once;
//! - every failed attempt and its error kept in `job_attempts` (apalis keeps only the last result);
//! - worker names unique per process, heartbeat and orphan threshold from the configuration;
//! - queues an operator pauses from the dashboard, honoured by every node ([`pauses`]);
//! - workers woken when jobs arrive rather than polling ([`wakeups`]).

mod adopt_card;
mod arguments;
mod attempts;
pub mod backoff;
mod canary;
pub mod dispatch;
mod enforce_requirements;
mod enqueue;
mod export_data;
pub mod housekeeping;
mod job;
pub mod pauses;
mod process_event;
mod provision_certificate;
mod refresh_object;
mod run_bulk;
mod runner;
pub mod scheduler;
mod schema;
mod send_email;
pub mod wakeups;

pub use adopt_card::AdoptCard;
pub use canary::Canary;
pub use enforce_requirements::EnforceRequirements;
pub use enqueue::{Cause, EnqueueError, EnqueueOn, enqueue, enqueue_because};
pub use export_data::ExportData;
pub use job::{Job, JobContext, JobError, JobServices};
pub use process_event::{CUSTOMERS_QUEUE, INVOICES_QUEUE, PAYMENTS_QUEUE, ProcessEvent, SUBSCRIPTIONS_QUEUE};
pub use provision_certificate::ProvisionCertificate;
pub use refresh_object::RefreshObject;
pub use run_bulk::RunBulk;
pub use runner::{Registry, WorkerOptions, node_name, run_workers};
pub use schema::setup;
pub use send_email::SendEmail;

/// Every job Billhook runs: one line each.
fn register_all(jobs: Registry) -> Registry {
    jobs.job::<ProcessEvent>()
        .job::<RefreshObject>()
        .job::<SendEmail>()
        .job::<EnforceRequirements>()
        .job::<AdoptCard>()
        .job::<ExportData>()
        .job::<ProvisionCertificate>()
        .job::<Canary>()
        .job::<RunBulk>()
}

/// Every queue and the job it carries (for operators).
pub fn queues() -> Vec<(&'static str, &'static str)> {
    register_all(Registry::new()).queues().collect()
}
