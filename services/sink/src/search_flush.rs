//! Keeps the full-text index's pending list short, so that no sink
//! transaction has to merge it (see `wirestream_store::flush_search_index`).

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics;

/// Flushes the index every `every` until shutdown; does nothing for zero.
pub fn spawn(pool: PgPool, every: Duration, shutdown: CancellationToken, tracker: &TaskTracker) {
    if every.is_zero() {
        return;
    }
    tracker.spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let started = Instant::now();
            let flushed = tokio::select! {
                _ = shutdown.cancelled() => break,
                flushed = wirestream_store::flush_search_index(&pool) => flushed,
            };
            match flushed {
                Ok(_pages) => {
                    metrics::search_index_flush(started.elapsed());
                    failing = false;
                }
                Err(error) => {
                    metrics::error(metrics::SEARCH_INDEX_FLUSH);
                    // Once per outage: the write path reports the database's
                    // state, and inserts still merge the list themselves.
                    if !failing {
                        tracing::warn!(%error, "failed to flush the full-text index's pending entries");
                    }
                    failing = true;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool of a database that is not there: nothing listens on port 1.
    fn away() -> sqlx::PgPool {
        wirestream_store::connect_lazy(
            &wirestream_runtime::config::DatabaseConfig {
                url: "postgres://wirestream@127.0.0.1:1/wirestream".into(),
                connect_timeout: Duration::from_millis(100),
                ..Default::default()
            },
            1,
        )
        .expect("a lazy pool")
    }

    /// With PostgreSQL away every flush fails: the task keeps trying, and
    /// still stops at once on shutdown.
    #[tokio::test]
    async fn a_database_that_is_away_does_not_hold_up_shutdown() {
        let pool = away();
        let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
        spawn(pool, Duration::from_millis(10), shutdown.clone(), &tracker);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(tracker.len(), 1, "the task survives failed flushes");
        shutdown.cancel();
        tracker.close();
        tokio::time::timeout(Duration::from_secs(2), tracker.wait())
            .await
            .expect("the task stops on shutdown");
    }

    #[tokio::test]
    async fn zero_turns_it_off() {
        let pool = away();
        let tracker = TaskTracker::new();
        spawn(pool, Duration::ZERO, CancellationToken::new(), &tracker);
        assert!(tracker.is_empty());
    }
}
