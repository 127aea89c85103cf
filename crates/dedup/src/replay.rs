//! Replaying one corpus with different batch sizes gives the same count
//! per verdict: expiry follows article time, not batch boundaries.

use std::collections::BTreeMap;

use wirestream_model::Verdict;

use crate::fixtures::{counts, replay_corpus};
use crate::{DedupConfig, Deduplicator, MemoryLedger};

async fn replay(batch_size: usize, expire_every: u32) -> BTreeMap<&'static str, usize> {
    let config = DedupConfig {
        expire_every,
        ..Default::default()
    };
    let mut dedup = Deduplicator::with_config(MemoryLedger::new(), config);
    let mut items = replay_corpus();
    for batch in items.chunks_mut(batch_size) {
        dedup.decide(batch).await.expect("memory ledger");
    }
    counts(&items)
}

#[tokio::test]
async fn verdict_counts_do_not_depend_on_batching() {
    let reference = replay(1, 1).await;
    // Every kind of verdict is in the corpus.
    for verdict in [Verdict::New, Verdict::Duplicate, Verdict::Version] {
        assert!(reference.contains_key(verdict.as_str()), "{reference:?}");
    }
    for (batch_size, expire_every) in [(13, 1), (64, 1), (7, 5), (400, 1), (50, 0)] {
        assert_eq!(
            replay(batch_size, expire_every).await,
            reference,
            "batches of {batch_size}, expiry every {expire_every}"
        );
    }
}
