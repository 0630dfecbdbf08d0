//! Work a node repeats on a timer while it runs: written once, for the flushes of its counts,
//! its heartbeat and its reading of paused queues.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs `work(false)` now and every `every` (a late tick is not made up) until `shutdown`, then
/// `work(true)` once: the last flush, or the beat that says the node stopped.
pub async fn every_until<F, Fut>(every: Duration, shutdown: CancellationToken, mut work: F)
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            () = shutdown.cancelled() => true,
            _ = tick.tick() => false,
        };
        work(stopping).await;
        if stopping {
            return;
        }
    }
}
