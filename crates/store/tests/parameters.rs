//! The start-up check of the dedup parameters (`PgLedger::check_parameters`).

use sqlx::PgPool;
use wirestream_dedup::{DedupConfig, Deduplicator, ParameterCheck, ParametersError};
use wirestream_model::fixtures;
use wirestream_store::PgLedger;

fn changed() -> DedupConfig {
    DedupConfig {
        jaccard: 0.8,
        shingle_words: 4,
        ..Default::default()
    }
}

async fn index_one_article(pool: &PgPool) {
    let mut a = fixtures::article(
        "urn:params:1",
        "ACME SEES HIGHER OUTPUT",
        "Acme Corp said it expects output to rise to 212,000 tonnes this year from 198,500 tonnes, as its new plant reaches full capacity.",
    );
    a.content_hash = wirestream_normalize::content_hash(&a.headline, &a.body);
    let mut dedup = Deduplicator::new(PgLedger::new(pool.clone()));
    dedup.decide(&mut [a]).await.expect("decide");
}

async fn stored_fingerprint(pool: &PgPool) -> (String, Option<String>) {
    sqlx::query_as("SELECT fingerprint, previous_fingerprint FROM dedup_parameters")
        .fetch_one(pool)
        .await
        .expect("stored parameters")
}

/// A ledger on a database whose stored parameters are the defaults, with
/// one article indexed if `indexed`.
async fn defaults_recorded(pool: &PgPool, indexed: bool) -> PgLedger {
    let mut ledger = PgLedger::new(pool.clone());
    ledger
        .check_parameters(&DedupConfig::default())
        .await
        .expect("check");
    if indexed {
        index_one_article(pool).await;
    }
    ledger
}

fn fingerprint(config: &DedupConfig) -> String {
    wirestream_dedup::Parameters::of(config).fingerprint()
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn none_stored_records_then_equal_passes(pool: PgPool) {
    let mut ledger = PgLedger::new(pool.clone());
    let config = DedupConfig::default();
    assert_eq!(
        ledger.check_parameters(&config).await.expect("check"),
        ParameterCheck::Recorded
    );
    index_one_article(&pool).await;
    // Scheduling is no parameter of the index.
    let later = DedupConfig {
        expire_every: 3,
        ..Default::default()
    };
    assert_eq!(
        ledger.check_parameters(&later).await.expect("check"),
        ParameterCheck::Unchanged
    );
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_change_against_an_empty_index_replaces_them(pool: PgPool) {
    let mut ledger = defaults_recorded(&pool, false).await;
    let check = ledger.check_parameters(&changed()).await.expect("check");
    let ParameterCheck::Replaced(changes) = check else {
        panic!("expected a replacement, got {check:?}");
    };
    assert_eq!(changes.len(), 2);
    let (now, previous) = stored_fingerprint(&pool).await;
    assert_eq!(now, fingerprint(&changed()));
    assert!(previous.is_some());
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_change_against_indexed_articles_is_refused_and_explained(pool: PgPool) {
    let mut ledger = defaults_recorded(&pool, true).await;
    let error = ledger
        .check_parameters(&changed())
        .await
        .expect_err("a change against an index must be refused");
    assert!(matches!(
        error,
        ParametersError::Changed { articles: 1, .. }
    ));
    let text = error.to_string();
    assert!(text.contains("jaccard: 0.7 -> 0.8"), "{text}");
    assert!(text.contains("shingle_words: 3 -> 4"), "{text}");
    assert!(text.contains("accept_parameter_change"), "{text}");
    // Nothing was recorded.
    let (now, _) = stored_fingerprint(&pool).await;
    assert_eq!(now, fingerprint(&DedupConfig::default()));
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_flag_accepts_and_records_a_change(pool: PgPool) {
    let mut ledger = defaults_recorded(&pool, true).await;
    let accepting = DedupConfig {
        accept_parameter_change: true,
        ..changed()
    };
    let check = ledger.check_parameters(&accepting).await.expect("check");
    assert!(
        matches!(check, ParameterCheck::Accepted(ref c) if c.len() == 2),
        "{check:?}"
    );
    let (now, previous) = stored_fingerprint(&pool).await;
    assert_eq!(now, fingerprint(&changed()));
    assert_eq!(previous, Some(fingerprint(&DedupConfig::default())));
    // Accepted once, the new parameters are the stored ones.
    assert_eq!(
        ledger.check_parameters(&changed()).await.expect("check"),
        ParameterCheck::Unchanged
    );
}
