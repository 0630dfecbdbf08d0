//! The worker and scheduler roles.

use std::time::Duration;

use app::AppState;
use billhook_core::{
    jobs::{WorkerOptions, run_workers},
    sessions::DbSessionStore,
};
use tokio_util::sync::CancellationToken;
use tower_sessions::session_store::ExpiredDeletion;

/// How often expired sessions are deleted.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Runs the job queues until shutdown.
pub async fn worker(state: AppState, options: WorkerOptions, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(?options, "worker role started");
    let result = run_workers(state.db.clone(), options, shutdown).await;
    tracing::info!("worker role stopped");
    result
}

/// Runs periodic housekeeping until shutdown. Each sweep is idempotent, so several scheduler
/// processes may run it.
pub async fn scheduler(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!("scheduler role started");
    let store = DbSessionStore::new(state.db.clone());
    let mut tick = tokio::time::interval(SESSION_SWEEP_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "deleting expired sessions failed; will retry");
                }
            }
        }
    }
    tracing::info!("scheduler role stopped");
    Ok(())
}
