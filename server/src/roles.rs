//! The worker and scheduler roles. The job queues and the cron schedule arrive with the webhook
//! pipeline; until then the scheduler does the housekeeping the accounts need.

use std::time::Duration;

use app::AppState;
use billhook_core::sessions::DbSessionStore;
use tokio_util::sync::CancellationToken;
use tower_sessions::session_store::ExpiredDeletion;

/// How often expired sessions are deleted.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Runs the job queues. No queue is declared yet: the role stays up (so a deployment can already
/// run it) and ends on shutdown.
pub async fn worker(_state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!("worker role started (no job queues are declared yet)");
    shutdown.cancelled().await;
    tracing::info!("worker role stopped");
    Ok(())
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
