//! The worker and scheduler process roles (what `billhook serve --role` runs besides the web
//! server). Not to be confused with an account's `Role` (customer, admin, viewer).

use app::AppState;
use billhook_core::jobs::{
    JobServices, WorkerOptions, node_name, run_workers,
    scheduler::{Schedule, run_scheduler},
};
use tokio_util::sync::CancellationToken;

/// Runs the job queues until shutdown.
pub async fn worker(
    state: AppState,
    options: WorkerOptions,
    services: JobServices,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!(?options, ?services, "worker role started");
    let result = run_workers(state.db.clone(), options, services, shutdown).await;
    tracing::info!("worker role stopped");
    result
}

/// Runs the periodic jobs (`billhook_core::jobs::housekeeping::schedules_with`) until shutdown;
/// several scheduler processes run each tick once between them.
pub async fn scheduler(state: AppState, schedules: Vec<Schedule>, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(node = %node_name(), ?schedules, "scheduler role started");
    let result = run_scheduler(state.db.clone(), schedules, node_name(), shutdown).await;
    tracing::info!("scheduler role stopped");
    result
}
