//! How the worker and the sink cut what they consume into batches.
//!
//! A batch starts with the first message and closes when it is full, when
//! `deadline` has passed since that message, or when no message has come for
//! `linger`. The last rule keeps light traffic fast: librdkafka hands over a
//! whole fetch response at once, so once those messages are taken the next
//! ones are a fetch away, and waiting out the deadline for them only delays
//! the ones in hand. Under load the batches still fill up, because messages
//! queue while the previous batch is being written.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::message::{BorrowedMessage, OwnedMessage};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRule {
    /// Most messages in a batch (at least one).
    pub size: usize,
    /// Longest a batch stays open after its first message.
    pub deadline: Duration,
    /// Longest a batch waits for its next message.
    pub linger: Duration,
}

/// The next batch from `consumer`, or `None` on shutdown. Read errors are
/// logged and skipped (librdkafka reports and recovers from them itself).
pub async fn next_batch<C>(
    consumer: &StreamConsumer<C>,
    rule: BatchRule,
    shutdown: &CancellationToken,
) -> Option<Vec<OwnedMessage>>
where
    C: ConsumerContext + 'static,
{
    collect(
        || async {
            consumer
                .recv()
                .await
                .map(|m: BorrowedMessage<'_>| m.detach())
        },
        rule,
        shutdown,
    )
    .await
}

/// [`next_batch`] over any source of messages.
async fn collect<T, E, F, Fut>(
    mut recv: F,
    rule: BatchRule,
    shutdown: &CancellationToken,
) -> Option<Vec<T>>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let size = rule.size.max(1);
    let mut batch = Vec::with_capacity(size.min(4096));
    while batch.is_empty() {
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            received = recv() => match received {
                Ok(message) => batch.push(message),
                Err(error) => {
                    tracing::warn!(%error, "failed to read from Kafka");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
        }
    }
    let deadline = Instant::now() + rule.deadline;
    while batch.len() < size {
        let wait_until = deadline.min(Instant::now() + rule.linger);
        match tokio::time::timeout_at(wait_until, recv()).await {
            Ok(Ok(message)) => batch.push(message),
            Ok(Err(error)) => tracing::warn!(%error, "failed to read from Kafka"),
            Err(_elapsed) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::{mpsc, Mutex};

    const RULE: BatchRule = BatchRule {
        size: 100,
        deadline: Duration::from_millis(50),
        linger: Duration::from_millis(5),
    };

    type Source = Arc<Mutex<mpsc::Receiver<usize>>>;

    /// Sends `count` messages, `gap` apart, and returns the receiving end.
    fn source(count: usize, gap: Duration) -> Source {
        let (tx, rx) = mpsc::channel(1000);
        tokio::spawn(async move {
            for n in 0..count {
                if !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                }
                if tx.send(n).await.is_err() {
                    return;
                }
            }
            // Hold the channel open: the source goes quiet, it does not end.
            std::future::pending::<()>().await;
        });
        Arc::new(Mutex::new(rx))
    }

    async fn take(
        rx: &Source,
        rule: BatchRule,
        shutdown: &CancellationToken,
    ) -> Option<Vec<usize>> {
        let recv = || {
            let rx = rx.clone();
            async move { rx.lock().await.recv().await.ok_or("closed") }
        };
        collect(recv, rule, shutdown).await
    }

    async fn batch(rx: &Source, rule: BatchRule) -> (Vec<usize>, Duration) {
        let started = Instant::now();
        let batch = take(rx, rule, &CancellationToken::new())
            .await
            .expect("no shutdown");
        (batch, started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_handled_once_the_source_goes_quiet() {
        let rx = source(30, Duration::ZERO);
        let (items, took) = batch(&rx, RULE).await;
        assert_eq!(items.len(), 30);
        assert_eq!(
            took, RULE.linger,
            "closed after the linger, not the deadline"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_trickle_closes_at_the_deadline() {
        let rx = source(1000, Duration::from_millis(2));
        let (items, took) = batch(&rx, RULE).await;
        assert_eq!(took, RULE.deadline + Duration::from_millis(2));
        // The first at 2 ms opens the batch; the deadline at 52 ms closes it
        // before the one due then.
        assert_eq!(items.len(), 25);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_closes_at_once() {
        let rx = source(250, Duration::ZERO);
        let (first, took) = batch(&rx, RULE).await;
        assert_eq!((first.len(), took), (100, Duration::ZERO));
        let (second, _) = batch(&rx, RULE).await;
        assert_eq!(
            second.first(),
            Some(&100),
            "nothing is lost between batches"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_before_the_first_message_ends_the_wait() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let rx = source(0, Duration::ZERO);
        assert_eq!(take(&rx, RULE, &shutdown).await, None);
    }
}
