use std::time::Duration;

use sqlx::Row as _;
use wirestream_tests::{shared, Pipeline};

/// The foundation's acceptance: the French seed article, posted as plain
/// text, is stored clean in Postgres.
#[tokio::test(flavor = "multi_thread")]
async fn seed_article_over_http_is_stored_clean() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let text = std::fs::read(shared("corpus/seed-article-fr.txt")).expect("the seed article");

    let response = pipeline
        .post("/v1/articles", "text/plain; charset=utf-8", text)
        .await;
    assert_eq!(response.status(), 202, "{}", pipeline.logs());
    let accepted: serde_json::Value = response.json().await.expect("a JSON answer");
    let uri = accepted["ids"][0].as_str().expect("an id").to_owned();

    let found = pipeline
        .wait_for_count(
            &format!("SELECT count(*) FROM articles WHERE uri = '{uri}'"),
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(found, 1, "the article was not stored\n{}", pipeline.logs());

    let row = sqlx::query(
        "SELECT headline, body, language, verdict, tags::text FROM articles WHERE uri = $1",
    )
    .bind(&uri)
    .fetch_one(&pipeline.pool)
    .await
    .expect("the row");
    let headline: String = row.get("headline");
    let body: String = row.get("body");
    assert_eq!(
        headline,
        "Les États-Unis affirment que la Russie a demandé l’aide militaire de la Chine pour l’invasion de l’Ukraine"
    );
    assert_eq!(
        row.get::<Option<String>, _>("language").as_deref(),
        Some("fr")
    );
    assert_eq!(row.get::<String, _>("verdict"), "new");
    assert!(
        body.ends_with("dans un autre signe que les deux capitales se rapprochent encore plus."),
        "the body must end with the last real sentence: …{}",
        &body[body.len().saturating_sub(200)..]
    );
    assert!(!body.contains("Twitter"), "the social sign-off is dropped");
    assert!(!body.contains("ttn-fr-56"), "the feed tag is not body text");
    assert!(
        row.get::<String, _>("tags").contains("ttn-fr-56"),
        "the feed tag is kept as metadata"
    );

    // Full-text search in French finds it (stemmed: "envahi" matches "invasion"? no: use a real word form).
    let hits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM articles WHERE search @@ plainto_tsquery(wirestream_regconfig('fr'), 'responsables américains')",
    )
    .fetch_one(&pipeline.pool)
    .await
    .expect("search runs");
    assert_eq!(hits, 1);
    pipeline.stop().await;
}
