//! Replaying one corpus into a fresh database gives the same count per
//! verdict, whatever the batching and however two workers interleave.

use std::collections::BTreeMap;

use sqlx::PgPool;
use wirestream_dedup::fixtures::{counts, replay_corpus};
use wirestream_dedup::{DedupConfig, Deduplicator};
use wirestream_store::PgLedger;

fn deduplicator(pool: &PgPool, expire_every: u32) -> Deduplicator<PgLedger> {
    let config = DedupConfig {
        expire_every,
        watermark_rank: 1,
        ..Default::default()
    };
    Deduplicator::with_config(PgLedger::new(pool.clone()), config)
}

/// Replays the corpus in batches of `batch_size`, handed in turn to each of
/// `workers` deduplicators on the same database.
async fn replay(
    pool: &PgPool,
    batch_size: usize,
    workers: usize,
    expire_every: u32,
) -> BTreeMap<&'static str, usize> {
    let mut dedups: Vec<_> = (0..workers)
        .map(|_| deduplicator(pool, expire_every))
        .collect();
    let mut items = replay_corpus();
    for (n, batch) in items.chunks_mut(batch_size).enumerate() {
        dedups[n % workers].decide(batch).await.expect("decide");
    }
    counts(&items)
}

async fn empty(pool: &PgPool) {
    sqlx::query("TRUNCATE dedup_sketches, dedup_bands, dedup_hashes, dedup_decisions")
        .execute(pool)
        .await
        .expect("truncate");
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn verdict_counts_do_not_depend_on_batching_or_workers(pool: PgPool) {
    // The memory ledger's counts on the same corpus, one item at a time.
    let mut memory = Deduplicator::new(wirestream_dedup::MemoryLedger::new());
    let mut items = replay_corpus();
    for item in items.chunks_mut(1) {
        memory.decide(item).await.expect("memory");
    }
    let reference = counts(&items);
    for (batch_size, workers, expire_every) in
        [(1, 1, 1), (64, 1, 1), (13, 2, 1), (64, 2, 3), (400, 1, 1)]
    {
        empty(&pool).await;
        assert_eq!(
            replay(&pool, batch_size, workers, expire_every).await,
            reference,
            "batches of {batch_size} over {workers} workers, expiry every {expire_every}"
        );
    }
}
