use std::time::Duration;

use serde_json::json;
use sqlx::Row as _;
use wirestream_tests::Pipeline;

fn ninjs(uri: &str, version: u32, pubstatus: &str, headline: &str, body: &str) -> String {
    json!({
        "uri": uri, "version": version.to_string(), "pubstatus": pubstatus,
        "versioncreated": "2024-03-01T10:00:00Z", "copyrightholder": "Reuters", "language": "en",
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
    })
    .to_string()
}

/// New, duplicate, version and kill, through the whole pipeline.
#[tokio::test(flavor = "multi_thread")]
async fn verdicts_flow_to_postgres() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let body = "LONDON, March 1 - The Bank of England held rates at 5.25 pct on Thursday, \
                as inflation eased more slowly than expected.\n    Economists had expected the hold.\n Reuter\n&#3;";
    let batch = [
        ninjs(
            "urn:test:a",
            1,
            "usable",
            "BANK OF ENGLAND HOLDS RATES",
            body,
        ),
        ninjs(
            "urn:test:b",
            1,
            "usable",
            "REFILE-BANK OF ENGLAND HOLDS RATES",
            body,
        ),
        ninjs(
            "urn:test:c",
            1,
            "usable",
            "OTHER STORY",
            "PARIS, March 1 - Something else entirely happened today in Paris.\n Reuter",
        ),
    ]
    .join("\n");
    let response = pipeline
        .post("/v1/articles:batch", "application/x-ndjson", batch)
        .await;
    assert_eq!(response.status(), 202, "{}", pipeline.logs());
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 3, Duration::from_secs(60))
        .await;
    assert_eq!(stored, 3, "{}", pipeline.logs());

    let followups = [
        ninjs(
            "urn:test:a",
            2,
            "usable",
            "UPDATE 1-BANK OF ENGLAND HOLDS RATES",
            &format!("{body} Markets rallied."),
        ),
        ninjs("urn:test:c", 2, "canceled", "OTHER STORY", ""),
    ]
    .join("\n");
    let response = pipeline
        .post("/v1/articles:batch", "application/x-ndjson", followups)
        .await;
    assert_eq!(response.status(), 202);
    let done = pipeline
        .wait_for_count(
            "SELECT count(*) FROM article_versions",
            5,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done, 5, "{}", pipeline.logs());

    let rows = sqlx::query("SELECT uri, version, verdict, duplicate_of, pubstatus, killed_at IS NOT NULL AS killed FROM articles ORDER BY uri")
        .fetch_all(&pipeline.pool)
        .await
        .expect("rows");
    let seen: Vec<(String, i64, String, Option<String>, String, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "urn:test:a".into(),
                2,
                "version".into(),
                None,
                "usable".into(),
                false
            ),
            (
                "urn:test:b".into(),
                1,
                "duplicate".into(),
                Some("urn:test:a".into()),
                "usable".into(),
                false
            ),
            (
                "urn:test:c".into(),
                2,
                "kill".into(),
                None,
                "canceled".into(),
                true
            ),
        ]
    );
    // The killed article keeps its text for the record, and is hidden from readers.
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM visible_articles")
        .fetch_one(&pipeline.pool)
        .await
        .unwrap();
    assert_eq!(visible, 2);
    pipeline.stop().await;
}
