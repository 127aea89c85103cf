//! Runs every query of docs/queries.md against seeded data and checks what
//! it returns, so the documentation cannot drift from the schema.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use sqlx::{PgPool, Row as _};
use wirestream_model::{
    fixtures, Article, DeadLetter, Original, PubStatus, Reason, Stage, Verdict,
};

/// The `sql` blocks of docs/queries.md, by their `-- name:` line.
fn documented_queries() -> HashMap<String, String> {
    let doc = include_str!("../../../docs/queries.md");
    let mut queries = HashMap::new();
    for block in doc.split("```sql").skip(1) {
        let body = block.split("```").next().unwrap_or_default();
        let name = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("-- name:"))
            .expect("every query has a -- name: line")
            .trim()
            .to_owned();
        queries.insert(name, body.trim().to_owned());
    }
    queries
}

fn article(uri: &str, language: &str, headline: &str, body: &str, minutes_ago: i64) -> Article {
    let at = Utc::now() - Duration::minutes(minutes_ago);
    let mut a = fixtures::article(uri, headline, body);
    a.language = Some(language.into());
    a.content_hash = format!("hash-{uri}");
    (a.versioncreated, a.received_at, a.processed_at) = (Some(at), at, at);
    a
}

async fn seed(pool: &PgPool) {
    let story = article(
        "urn:test:story-1",
        "fr",
        "La Chine et la Russie",
        "L'armée chinoise a été sollicitée par Moscou.",
        30,
    );
    let mut update = story.clone();
    update.version = 2;
    update.verdict = Verdict::Version;
    update.headline = "La Chine et la Russie (mise à jour)".into();
    let mut copy = article(
        "urn:test:copy-1",
        "fr",
        "La Chine et la Russie",
        "L'armée chinoise a été sollicitée par Moscou.",
        20,
    );
    copy.verdict = Verdict::Duplicate;
    copy.duplicate_of = Some("urn:test:story-1".into());
    copy.similarity = Some(1.0);
    let english = article(
        "urn:test:story-2",
        "en",
        "COCOA PRICES RISE",
        "Cocoa prices rose in London trading.",
        10,
    );
    let old = article(
        "urn:test:story-3",
        "en",
        "AN OLD STORY",
        "It happened long ago.",
        180,
    );
    let mut killed = article("urn:test:story-4", "en", "KILLED STORY", "Withdrawn.", 5);
    killed.pubstatus = PubStatus::Canceled;
    killed.verdict = Verdict::Kill;
    wirestream_store::write_articles(pool, &[story, copy, english, old, killed])
        .await
        .unwrap();
    wirestream_store::write_articles(pool, &[update])
        .await
        .unwrap();
    let letter = |reason: Reason, original: &[u8]| {
        DeadLetter::new(
            Stage::Worker,
            reason,
            "detail",
            Original::from_bytes(original),
        )
    };
    let letters = vec![
        (
            "raw/0/1".to_string(),
            letter(Reason::EmptyArticle, b"{\"uri\":\"a\"}"),
        ),
        (
            "raw/0/2".to_string(),
            letter(Reason::EmptyArticle, b"{\"uri\":\"b\"}"),
        ),
        ("raw/1/9".to_string(), letter(Reason::InvalidRawItem, b"<x")),
    ];
    wirestream_store::write_dead_letters(pool, &letters)
        .await
        .unwrap();
}

async fn column(pool: &PgPool, sql: &str, name: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfails: {e}"))
        .iter()
        .map(|row| {
            row.try_get::<String, _>(name)
                .unwrap_or_else(|_| row.get::<i64, _>(name).to_string())
        })
        .collect()
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn every_documented_query_runs_and_answers_right(pool: PgPool) {
    seed(&pool).await;
    let queries = documented_queries();
    let q = |name: &str| {
        queries
            .get(name)
            .unwrap_or_else(|| panic!("docs/queries.md has no query {name}"))
            .clone()
    };

    // Latest first, no duplicates, nothing killed.
    assert_eq!(
        column(&pool, &q("latest_stories"), "uri").await,
        ["urn:test:story-2", "urn:test:story-1", "urn:test:story-3"]
    );
    assert_eq!(
        column(&pool, &q("story_copies"), "uri").await,
        ["urn:test:story-1", "urn:test:copy-1"]
    );
    let stories = column(&pool, &q("stories"), "story_uri").await;
    assert_eq!(
        stories.first().map(String::as_str),
        Some("urn:test:story-1")
    );
    assert_eq!(
        column(&pool, &q("stories"), "copies")
            .await
            .first()
            .map(String::as_str),
        Some("2")
    );
    // French stemming: "armée" matches "armée", "Chine" matches "chinoise"? No: it matches the headline's "Chine".
    let found = column(&pool, &q("search_french"), "uri").await;
    assert_eq!(found.len(), 2, "both French copies match: {found:?}");
    assert!(found.contains(&"urn:test:story-1".to_string()));
    // Within the hour: not the three-hour-old story.
    let last_hour = column(&pool, &q("provider_last_hour"), "uri").await;
    assert_eq!(last_hour.len(), 4, "{last_hour:?}");
    assert!(!last_hour.contains(&"urn:test:story-3".to_string()));
    assert_eq!(
        column(&pool, &q("item_versions"), "version").await,
        ["1", "2"]
    );
    assert_eq!(
        column(&pool, &q("dead_letters_by_reason"), "reason").await,
        ["empty_article", "invalid_raw_item"]
    );
    assert_eq!(
        column(&pool, &q("dead_letters_by_reason"), "letters").await,
        ["2", "1"]
    );
    assert_eq!(
        column(&pool, &q("recent_dead_letters"), "reason")
            .await
            .len(),
        3
    );
    assert_eq!(
        queries.len(),
        8,
        "a new query in docs/queries.md needs a check here"
    );
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_search_index_flush_keeps_new_articles_searchable(pool: PgPool) {
    let a = article(
        "urn:test:flush-1",
        "en",
        "Copper miners strike",
        "Talks failed.",
        1,
    );
    wirestream_store::write_batch(&pool, &[a], &[], None)
        .await
        .expect("write");
    let pages = wirestream_store::flush_search_index(&pool)
        .await
        .expect("flush");
    assert!(pages >= 1, "the new entries were pending: {pages} pages");
    assert_eq!(
        wirestream_store::flush_search_index(&pool)
            .await
            .expect("flush again"),
        0,
        "nothing is left pending"
    );
    let found: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM articles WHERE search @@ websearch_to_tsquery('english', 'miners')",
    )
    .fetch_one(&pool)
    .await
    .expect("search");
    assert_eq!(found, 1);
}
