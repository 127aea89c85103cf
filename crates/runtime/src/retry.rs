//! Exponential backoff for dependencies that come and go.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Retries `op` while `is_transient` says its error may pass, sleeping from
/// `initial` doubling up to `max` between tries. Returns `None` when shutdown
/// fired first: the caller leaves the work undone (its offsets unstored).
pub async fn with_backoff<T, E, F, Fut>(
    what: &str,
    initial: Duration,
    max: Duration,
    shutdown: &CancellationToken,
    is_transient: impl Fn(&E) -> bool,
    mut op: F,
) -> Option<Result<T, E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut pause = initial;
    let mut attempt = 1u32;
    loop {
        match op().await {
            Ok(value) => return Some(Ok(value)),
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, attempt, retry_in = ?pause, "{what} failed, retrying");
                metrics::counter!("wirestream_retries_total", "operation" => what.to_owned())
                    .increment(1);
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(max);
                attempt += 1;
            }
            Err(error) => return Some(Err(error)),
        }
    }
}
