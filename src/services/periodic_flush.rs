//! The loop behind every in-memory batch that is written to the database now and then (API-key
//! last-used times, API-call counts): flush every period, and once more at shutdown.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Calls `flush` every `every` until `stop` is cancelled, then once more; failures are logged
/// as "could not record {what}" and left to the next flush (each batch puts its counts back).
pub fn spawn<F, Fut>(
    what: &'static str,
    every: Duration,
    stop: CancellationToken,
    flush: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = sqlx::Result<()>> + Send,
{
    tokio::spawn(async move {
        // The first flush is one period after start: `interval` would fire at once, and a
        // flush racing the first requests makes request-path writes look random.
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = stop.cancelled() => break,
            }
            if let Err(error) = flush().await {
                tracing::warn!(%error, "could not record {what}; will retry");
            }
        }
        if let Err(error) = flush().await {
            tracing::warn!(%error, "could not record {what} at shutdown");
        }
    })
}
