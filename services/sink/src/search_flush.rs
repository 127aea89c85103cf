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
