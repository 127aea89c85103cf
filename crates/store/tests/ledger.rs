//! The Postgres dedup ledger: round trips per batch and the horizon.

use chrono::{Duration, TimeZone, Utc};
use sqlx::PgPool;
use wirestream_dedup::{DedupConfig, Deduplicator};
use wirestream_model::{Article, Verdict};
use wirestream_store::PgLedger;

mod common;
use common::{near_copy, story};

/// The default config, with expiry every `expire_every` batches (0: never).
fn deduplicator(pool: &PgPool, expire_every: u32) -> Deduplicator<PgLedger> {
    let config = DedupConfig {
        expire_every,
        // A handful of items: the newest one is the watermark.
        watermark_rank: 1,
        ..Default::default()
    };
    Deduplicator::with_config(PgLedger::new(pool.clone()), config)
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_batch_costs_nine_round_trips_whatever_its_size(pool: PgPool) {
    let mut dedup = deduplicator(&pool, 0);
    // 1,000 new articles are 33,000 LSH keys: more locks than PostgreSQL's lock
    // table holds, had each key its own (the stripes keep it at 64).
    for size in [1, 10, 1000] {
        let mut batch: Vec<Article> = (0..size).map(|n| story(size * 1000 + n, 2)).collect();
        // An exact copy and a near copy inside the batch too.
        let mut copy = story(size * 1000, 2);
        copy.uri = format!("copy-{size}");
        batch.push(copy);
        let before = dedup.ledger().round_trips();
        dedup.decide(&mut batch).await.unwrap();
        assert_eq!(dedup.ledger().round_trips() - before, 9, "batch of {size}");
        assert_eq!(batch[size].verdict, Verdict::Duplicate);
    }
    // A replayed batch is answered by the lookup alone.
    let mut replay: Vec<Article> = (0..10).map(|n| story(10_000 + n, 2)).collect();
    let before = dedup.ledger().round_trips();
    dedup.decide(&mut replay).await.unwrap();
    assert_eq!(dedup.ledger().round_trips() - before, 1);
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn re_sends_of_stored_articles_skip_the_near_copy_lookup(pool: PgPool) {
    let mut dedup = deduplicator(&pool, 0);
    let mut originals: Vec<Article> = (0..3).map(|n| story(n, 2)).collect();
    dedup.decide(&mut originals).await.unwrap();

    // Re-sends under other ids only: no LSH key to lock or fetch, so no
    // advisory locks and no candidate query (five round trips, not seven).
    let mut resends: Vec<Article> = (0..3)
        .map(|n| {
            let mut copy = story(n, 3);
            copy.uri = format!("resend-{n}");
            copy
        })
        .collect();
    let before = dedup.ledger().round_trips();
    dedup.decide(&mut resends).await.unwrap();
    assert_eq!(dedup.ledger().round_trips() - before, 5);
    for (n, copy) in resends.iter().enumerate() {
        assert_eq!(copy.verdict, Verdict::Duplicate);
        assert_eq!(
            copy.duplicate_of.as_deref(),
            Some(format!("story-{n}").as_str())
        );
        assert_eq!(copy.similarity, Some(1.0));
    }

    // A re-send, then a lightly edited copy in the same batch: the copy
    // follows the original's story.
    let mut resend = story(0, 4);
    resend.uri = "resend-again-0".into();
    let mut edited = story(0, 4);
    edited.uri = "edited-0".into();
    edited.body = edited.body.replace("next year0.", "next year0, it said.");
    edited.content_hash = wirestream_normalize::content_hash(&edited.headline, &edited.body);
    let mut batch = vec![resend, edited];
    dedup.decide(&mut batch).await.unwrap();
    assert_eq!(batch[0].duplicate_of.as_deref(), Some("story-0"));
    assert_eq!(
        batch[1].verdict,
        Verdict::Duplicate,
        "{:?}",
        batch[1].similarity
    );
    assert_eq!(batch[1].duplicate_of.as_deref(), Some("story-0"));
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_horizon_deletes_index_hashes_and_decisions(pool: PgPool) {
    // Expiry every batch, 60 days (twice the horizon) back from the newest
    // article decided.
    let mut dedup = deduplicator(&pool, 1);
    let mut early: Vec<Article> = (0..3).map(|n| story(n, 1)).collect();
    dedup.decide(&mut early).await.unwrap();
    for table in ["dedup_sketches", "dedup_hashes", "dedup_decisions"] {
        assert_eq!(count(&pool, table).await, 3, "{table}");
    }
    // Each article is listed under its band keys and its lead key.
    let keys = (DedupConfig::default().bands + 1) as i64;
    assert_eq!(count(&pool, "dedup_bands").await, 3 * keys);

    // Twenty days on: nothing is old enough to go.
    let mut later = vec![story(10, 21)];
    dedup.decide(&mut later).await.unwrap();
    assert_eq!(count(&pool, "dedup_sketches").await, 4);

    // Seventy days on (cutoff March 11): the first three go from every
    // table, the others stay.
    let mut much_later = vec![story(11, 31)];
    much_later[0].versioncreated = much_later[0].versioncreated.map(|t| t + Duration::days(40));
    dedup.decide(&mut much_later).await.unwrap();
    for table in ["dedup_sketches", "dedup_hashes", "dedup_decisions"] {
        assert_eq!(count(&pool, table).await, 2, "{table}");
    }
    assert_eq!(count(&pool, "dedup_bands").await, 2 * keys);

    // A copy of an expired story is new again: its hash was forgotten.
    let mut copy = vec![story(0, 1)];
    copy[0].uri = "late-copy".into();
    copy[0].versioncreated = much_later[0].versioncreated;
    dedup.decide(&mut copy).await.unwrap();
    assert_eq!(copy[0].verdict, Verdict::New);
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn expired_state_is_deleted_in_bounded_rounds_and_the_tables_shrink(pool: PgPool) {
    // No delete in the batch path (as in the worker): the tables only grow.
    let mut dedup = deduplicator(&pool, 0);
    for day in 1..=9 {
        let mut batch: Vec<Article> = (0..4).map(|n| story(day as usize * 100 + n, day)).collect();
        dedup.decide(&mut batch).await.unwrap();
    }
    let keys = (DedupConfig::default().bands + 1) as i64;
    assert_eq!(count(&pool, "dedup_sketches").await, 36);
    assert_eq!(count(&pool, "dedup_bands").await, 36 * keys);

    // Rounds of at most 10 rows per table, until none is left before the
    // cutoff (March 6: the first five days go).
    let mut ledger = PgLedger::new(pool.clone());
    let cutoff = Utc.with_ymd_and_hms(1987, 3, 6, 0, 0, 0).single().unwrap();
    let mut rounds = 0;
    loop {
        let round = ledger.expire_some(cutoff, 10).await.unwrap();
        rounds += 1;
        assert!(round.rows <= 40, "{round:?}");
        if !round.more {
            break;
        }
    }
    assert!(
        rounds >= 66,
        "5 days x 4 articles x 33 keys in rounds of 10: {rounds}"
    );
    for table in ["dedup_sketches", "dedup_hashes", "dedup_decisions"] {
        assert_eq!(count(&pool, table).await, 16, "{table}");
    }
    assert_eq!(count(&pool, "dedup_bands").await, 16 * keys);

    // The slots of the keys that emptied start again; a new near copy of a
    // remaining story still finds it.
    let mut copy = vec![near_copy(&story(900, 9), "copy-900")];
    dedup.decide(&mut copy).await.unwrap();
    assert_eq!(copy[0].verdict, Verdict::Duplicate);
    assert_eq!(copy[0].duplicate_of.as_deref(), Some("story-900"));
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_claim_that_missed_another_workers_entries_is_refused(pool: PgPool) {
    use wirestream_dedup::{fingerprint, ItemVersion, Ledger, Record};
    // Two workers fetch candidates for two near copies before either has
    // committed: neither sees the other. The first commit holds; the second
    // is refused (nothing written) so that its batch is decided again.
    let config = DedupConfig::default();
    let original = story(1, 2);
    let mut near = story(1, 2);
    near.uri = "near-1".into();
    near.body.push_str(" It gave no details.");
    let (a, b) = (fingerprint(&original, &config), fingerprint(&near, &config));
    let mut keys: Vec<u64> = a.keys.iter().chain(&b.keys).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let entry = |article: &Article, sketch| {
        std::sync::Arc::new(wirestream_dedup::Entry {
            provider: article.provider.clone(),
            uri: article.uri.clone(),
            story_uri: article.uri.clone(),
            seen_at: article.versioncreated.unwrap(),
            sketch,
        })
    };
    let record = |article: &Article| Record {
        item: ItemVersion {
            provider: article.provider.clone(),
            uri: article.uri.clone(),
            version: article.version,
        },
        decision: wirestream_dedup::Decision {
            verdict: Verdict::New,
            duplicate_of: None,
            similarity: None,
        },
        seen_at: article.versioncreated.unwrap(),
    };
    let (mut first, mut second) = (PgLedger::new(pool.clone()), PgLedger::new(pool.clone()));
    let long_ago = Utc.with_ymd_and_hms(1987, 1, 1, 0, 0, 0).single().unwrap();
    assert!(first
        .near_candidates(&keys, 64, long_ago)
        .await
        .unwrap()
        .is_empty());
    assert!(second
        .near_candidates(&keys, 64, long_ago)
        .await
        .unwrap()
        .is_empty());
    let held = first
        .commit(
            &[(a.keys.clone(), entry(&original, a.sketch))],
            &[record(&original)],
            64,
        )
        .await
        .unwrap();
    assert!(held.is_some());
    let refused = second
        .commit(
            &[(b.keys.clone(), entry(&near, b.sketch))],
            &[record(&near)],
            64,
        )
        .await
        .unwrap();
    assert!(refused.is_none());
    assert_eq!(second.races(), 1);
    assert_eq!(count(&pool, "dedup_sketches").await, 1);
    assert_eq!(count(&pool, "dedup_decisions").await, 1);
    // Decided again, the second finds the first.
    let candidates = second.near_candidates(&keys, 64, long_ago).await.unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].1.uri, "story-1");
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_watermark_is_the_time_rank_decisions_have_reached(pool: PgPool) {
    let mut dedup = deduplicator(&pool, 0);
    let mut batch: Vec<Article> = (1..=5).map(|day| story(day as usize, day)).collect();
    // An undated item, timed by its receipt (2024 in the fixture), far
    // ahead of the rest.
    let mut undated = story(99, 1);
    undated.versioncreated = None;
    batch.push(undated.clone());
    dedup.decide(&mut batch).await.unwrap();

    let mut ledger = PgLedger::new(pool.clone());
    let march = |day| Utc.with_ymd_and_hms(1987, 3, day, 12, 0, 0).single();
    assert_eq!(
        ledger.watermark(1).await.unwrap(),
        Some(undated.received_at),
        "rank 1: the newest"
    );
    assert_eq!(
        ledger.watermark(2).await.unwrap(),
        march(5),
        "the undated item moves only rank 1"
    );
    assert_eq!(ledger.watermark(4).await.unwrap(), march(3));
    assert_eq!(ledger.watermark(7).await.unwrap(), None, "fewer decisions");
}
