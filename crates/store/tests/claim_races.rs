//! A near-copy claim refused at commit, because another worker indexed
//! under its keys after its candidate fetch (docs/dedup.md, "Workers side
//! by side"): kept when what raced in changes no decision, decided again
//! when it does. The race is made to happen, not hoped for: a wrapper
//! ledger lets a rival commit just before the claim's own commit.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::PgPool;
use wirestream_dedup::{
    fingerprint, Claim, DedupConfig, Deduplicator, Entry, ItemVersion, Keyed, Known, Ledger,
    LedgerError, Owner, Record,
};
use wirestream_model::{Article, Verdict};
use wirestream_store::PgLedger;

mod common;

/// A distinct story per `n`, dated 2 March 1987.
fn story(n: usize) -> Article {
    common::story(n, 2)
}

fn long_ago() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1987, 1, 1, 0, 0, 0).single().unwrap()
}

/// What the rival commits: `text`'s sketch listed under `keys`, as the
/// item `uri`, decided `new`.
struct Rival {
    ledger: PgLedger,
    entry: Keyed,
    record: Record,
}

impl Rival {
    fn new(pool: &PgPool, uri: &str, keys: Vec<u64>, text: &Article) -> Rival {
        let config = DedupConfig::default();
        let seen_at = text.versioncreated.unwrap();
        let entry = Entry {
            provider: text.provider.clone(),
            uri: uri.into(),
            story_uri: uri.into(),
            seen_at,
            sketch: fingerprint(text, &config).sketch,
        };
        let record = Record {
            item: ItemVersion {
                provider: text.provider.clone(),
                uri: uri.into(),
                version: 1,
            },
            decision: wirestream_dedup::Decision {
                verdict: Verdict::New,
                duplicate_of: None,
                similarity: None,
            },
            seen_at,
        };
        Rival {
            ledger: PgLedger::new(pool.clone()),
            entry: (keys, Arc::new(entry)),
            record,
        }
    }

    async fn commit(mut self) {
        self.ledger
            .near_candidates(&self.entry.0, 64, long_ago())
            .await
            .unwrap();
        let held = self
            .ledger
            .commit(&[self.entry], &[self.record], 64)
            .await
            .unwrap();
        assert!(held.is_some(), "the rival's commit holds");
    }
}

/// A [`PgLedger`] whose first commit comes just after the rival's.
struct Racing {
    inner: PgLedger,
    rival: Option<Rival>,
}

impl Ledger for Racing {
    async fn lookup(
        &mut self,
        items: &[ItemVersion],
        content_keys: &[String],
        not_before: &[DateTime<Utc>],
    ) -> Result<Vec<Known>, LedgerError> {
        self.inner.lookup(items, content_keys, not_before).await
    }

    async fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> Result<Vec<Keyed>, LedgerError> {
        self.inner
            .near_candidates(keys, max_per_key, not_before)
            .await
    }

    async fn claim(&mut self, claims: &[Claim]) -> Result<Vec<Owner>, LedgerError> {
        self.inner.claim(claims).await
    }

    async fn commit(
        &mut self,
        entries: &[Keyed],
        decisions: &[Record],
        max_per_key: usize,
    ) -> Result<Option<Vec<wirestream_dedup::Decision>>, LedgerError> {
        if let Some(rival) = self.rival.take() {
            rival.commit().await;
        }
        self.inner.commit(entries, decisions, max_per_key).await
    }

    async fn refetch(&mut self) -> Result<Option<Vec<Keyed>>, LedgerError> {
        self.inner.refetch().await
    }

    async fn expire(&mut self, cutoff: DateTime<Utc>) -> Result<u64, LedgerError> {
        self.inner.expire(cutoff).await
    }
}

fn racing(pool: &PgPool, rival: Rival) -> Deduplicator<Racing> {
    let ledger = Racing {
        inner: PgLedger::new(pool.clone()),
        rival: Some(rival),
    };
    let config = DedupConfig {
        expire_every: 0,
        ..Default::default()
    };
    Deduplicator::with_config(ledger, config)
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_refused_claim_whose_decisions_hold_is_kept(pool: PgPool) {
    // The rival lists unrelated text under every key of the article: what
    // boilerplate shared by unrelated stories does. The claim is refused,
    // sees the rival's entry, finds it no copy, and keeps its decision.
    let article = story(1);
    let keys = fingerprint(&article, &DedupConfig::default()).keys;
    let rival = Rival::new(&pool, "rival-1", keys.clone(), &story(2));
    let mut dedup = racing(&pool, rival);
    let mut batch = vec![article];
    let before = dedup.ledger().inner.round_trips();
    dedup.decide(&mut batch).await.unwrap();

    assert_eq!(batch[0].verdict, Verdict::New);
    assert_eq!(
        dedup.ledger().inner.races(),
        1,
        "the commit was refused once"
    );
    assert_eq!(dedup.races(), 0, "and the batch was not decided again");
    // Nine, plus four for the refusal: back to the savepoint, the fetch
    // again, the savepoint and the statement again.
    assert_eq!(dedup.ledger().inner.round_trips() - before, 9 + 4);
    // Both entries under every key, each at a slot of its own.
    let keys = keys.len() as i64;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM dedup_bands").await,
        2 * keys
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM dedup_bands WHERE uri = 'story-1' AND slot = 2"
        )
        .await,
        keys,
        "the article's rows come after the rival's"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM dedup_sketches").await, 2);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM dedup_decisions").await,
        2
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM dedup_hashes").await, 1);

    // The next claim takes the shared lock again, and finds both.
    let mut copy = vec![common::near_copy(&story(1), "copy-1")];
    dedup.decide(&mut copy).await.unwrap();
    assert_eq!(copy[0].verdict, Verdict::Duplicate);
    assert_eq!(copy[0].duplicate_of.as_deref(), Some("story-1"));
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_near_copy_that_raced_in_changes_the_decision(pool: PgPool) {
    // The rival commits a near copy of the article first: refused, the
    // claim sees it, its decision changes (new becomes duplicate), so the
    // batch is decided again, and the article follows the rival's story.
    let article = story(1);
    let near = common::near_copy(&article, "story-1");
    let keys = fingerprint(&near, &DedupConfig::default()).keys;
    let rival = Rival::new(&pool, "rival-near", keys, &near);
    let mut dedup = racing(&pool, rival);
    let mut batch = vec![article];
    dedup.decide(&mut batch).await.unwrap();

    assert_eq!(batch[0].verdict, Verdict::Duplicate);
    assert_eq!(batch[0].duplicate_of.as_deref(), Some("rival-near"));
    assert_eq!(dedup.races(), 1, "decided again from the start");
    // One story, one original: the rival's. Nothing of the refused claim
    // was left behind.
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM dedup_decisions WHERE verdict = 'new'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM dedup_decisions").await,
        2
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM dedup_sketches WHERE story_uri = 'rival-near'"
        )
        .await,
        2,
        "the article is indexed under the rival's story"
    );
}
