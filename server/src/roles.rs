//! The worker and scheduler roles.

use app::AppState;
use billhook_core::jobs::{WorkerOptions, housekeeping, node_name, run_workers, scheduler::run_scheduler};
use tokio_util::sync::CancellationToken;

/// Runs the job queues until shutdown.
pub async fn worker(state: AppState, options: WorkerOptions, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(?options, "worker role started");
    let result = run_workers(state.db.clone(), options, shutdown).await;
    tracing::info!("worker role stopped");
    result
}

/// Runs the periodic jobs (`billhook_core::jobs::housekeeping::schedules`) until shutdown;
/// several scheduler processes run each tick once between them.
pub async fn scheduler(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(node = %node_name(), "scheduler role started");
    let result = run_scheduler(state.db.clone(), housekeeping::schedules(), node_name(), shutdown).await;
    tracing::info!("scheduler role stopped");
    result
}
