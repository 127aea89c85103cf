//! Where a stage's records come from: a consumer group in production, a
//! queue in memory in the tests.

use rdkafka::consumer::{CommitMode, Consumer as _, ConsumerContext, StreamConsumer};
use rdkafka::message::OwnedMessage;
use tokio_util::sync::CancellationToken;

use super::NextOffset;
use crate::batch::{self, BatchRule};

#[allow(async_fn_in_trait)]
pub trait Source {
    /// The next batch, or `None` on shutdown.
    async fn next_batch(
        &mut self,
        rule: BatchRule,
        shutdown: &CancellationToken,
    ) -> Option<Vec<OwnedMessage>>;

    /// Marks the records below these offsets as done, for the next commit.
    fn store(&self, offsets: &[NextOffset]);

    /// Commits the stored offsets now (before leaving the group).
    fn commit(&self);
}

impl<C: ConsumerContext + 'static> Source for StreamConsumer<C> {
    async fn next_batch(
        &mut self,
        rule: BatchRule,
        shutdown: &CancellationToken,
    ) -> Option<Vec<OwnedMessage>> {
        batch::next_batch(self, rule, shutdown).await
    }

    fn store(&self, offsets: &[NextOffset]) {
        for offset in offsets {
            // librdkafka stores offset + 1: give it the last record's offset.
            let last = offset.next_offset - 1;
            if let Err(error) = self.store_offset(&offset.topic, offset.partition, last) {
                // The partition moved to another member in a rebalance: it
                // re-reads from the last commit, and the replay is a no-op.
                tracing::info!(%error, topic = %offset.topic, partition = offset.partition, "offset not stored (partition reassigned)");
            }
        }
    }

    fn commit(&self) {
        if let Err(error) = self.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(%error, "final offset commit skipped");
        }
    }
}
