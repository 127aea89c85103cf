//! Hears about rebalances, so that the sink reloads its Postgres offsets for
//! partitions it may have lost and got back (another sink moved them on).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::ClientContext;

#[derive(Clone, Default)]
pub struct RebalanceCounter {
    generation: Arc<AtomicU64>,
}

impl RebalanceCounter {
    /// Bumped on every assignment or revocation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

impl ClientContext for RebalanceCounter {}

impl ConsumerContext for RebalanceCounter {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        tracing::info!(?rebalance, "rebalance");
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}
