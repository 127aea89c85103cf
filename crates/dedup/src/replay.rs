//! Replaying one corpus with different batch sizes gives the same count
//! per verdict: expiry follows article time, not batch boundaries, and
//! keeps `allowed_lateness` for items that come out of time order (the
//! ones further behind are counted as late).

use std::collections::BTreeMap;
use std::time::Duration;

use wirestream_model::{Article, Verdict};

use crate::fixtures::{counts, late_repeats, replay_corpus};
use crate::{horizon, DedupConfig, Deduplicator, MemoryLedger};

async fn replay(batch_size: usize, expire_every: u32) -> BTreeMap<&'static str, usize> {
    let config = DedupConfig {
        expire_every,
        // A small corpus: the newest item is the watermark.
        watermark_rank: 1,
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

/// The verdict counts and the late items of [`late_repeats`] decided in
/// batches of `batch_size`, with the delete after every batch.
async fn replay_late(
    repeats: usize,
    batch_size: usize,
    allowed_lateness: Duration,
) -> (BTreeMap<&'static str, usize>, u64) {
    let config = DedupConfig {
        expire_every: 1,
        allowed_lateness,
        watermark_rank: 1,
        ..Default::default()
    };
    let mut dedup = Deduplicator::with_config(MemoryLedger::new(), config);
    let mut items = late_repeats(repeats);
    for batch in items.chunks_mut(batch_size) {
        dedup.decide(batch).await.expect("memory ledger");
    }
    (counts(&items), dedup.late())
}

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test]
async fn an_allowed_lateness_covering_the_span_makes_late_repeats_deterministic() {
    // Two repeats: 110 days of article time, each repeat up to 90 days late.
    let lateness = 120 * DAY;
    let (reference, late) = replay_late(2, 1, lateness).await;
    assert_eq!(late, 0, "nothing is late within 120 days");
    // The repeats found their first passes: far more copies than new.
    assert!(
        reference["duplicate"] > 2 * reference["new"],
        "{reference:?}"
    );
    for batch_size in [7, 500] {
        assert_eq!(
            replay_late(2, batch_size, lateness).await,
            (reference.clone(), 0),
            "batches of {batch_size}"
        );
    }
}

#[tokio::test]
async fn late_items_are_counted_and_items_within_the_lateness_are_not() {
    let lateness = DedupConfig::default().allowed_lateness;
    // The first pass alone is nearly in time order: nothing is late.
    let (_, late) = replay_late(0, 7, lateness).await;
    assert_eq!(late, 0);

    // Each repeat's late items are those older than the newest item before
    // the repeat minus the lateness: the repeats are in the same near time
    // order as the first pass, so within one nothing else is late.
    let items = late_repeats(2);
    let passes: Vec<&[Article]> = items.chunks(replay_corpus().len()).collect();
    let mut expected = 0;
    for k in 1..passes.len() {
        let newest = passes[..k]
            .iter()
            .flat_map(|pass| pass.iter().map(horizon::seen_at))
            .max()
            .expect("items");
        let late_before = horizon::cutoff(newest, lateness);
        expected += passes[k]
            .iter()
            .filter(|a| horizon::seen_at(a) < late_before)
            .count() as u64;
    }
    assert!(expected > 0);
    // Counted in item order, the same whatever the batching…
    let mut verdicts = Vec::new();
    for batch_size in [1, 7, 500] {
        let (counts, late) = replay_late(2, batch_size, lateness).await;
        assert_eq!(late, expected, "batches of {batch_size}");
        verdicts.push(counts);
    }
    // …while the late items' verdicts are not: the delete ran at other
    // points (the bench's disagreement, in small). Were they ever equal
    // here, the corpus would no longer show what the lateness is for.
    assert_ne!(verdicts[0], verdicts[2], "batches of 1 and of 500");
}
