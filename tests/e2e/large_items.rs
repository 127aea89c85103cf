//! An item at ingest's size limit (5 MiB) flows end to end or is
//! dead-lettered with its reason, and the items behind it on its partition
//! flow on: one large record never stops a partition.

use std::time::Duration;

use serde_json::json;
use sqlx::Row as _;
use wirestream_tests::{Options, Pipeline};

/// ingest's default `max_body_bytes`.
const LIMIT: usize = 5 * 1024 * 1024;

/// A ninjs document of exactly `LIMIT` bytes, the padding in `field`.
fn at_the_limit(uri: &str, field: &str) -> String {
    let doc = |pad: &str| {
        let (headline, body) = match field {
            "headline" => (pad.to_owned(), "A body.".to_owned()),
            _ => ("A very long story".to_owned(), pad.to_owned()),
        };
        json!({
            "uri": uri, "version": "1", "language": "en",
            "headlines": [{"role": "main", "value": headline}],
            "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
        })
        .to_string()
    };
    let overhead = doc("").len();
    // Words, so that normalisation and deduplication see real text.
    let words = "wire copy keeps coming in every hour of the day ";
    let mut pad = words.repeat((LIMIT - overhead) / words.len() + 1);
    pad.truncate(LIMIT - overhead);
    let document = doc(&pad);
    assert_eq!(document.len(), LIMIT);
    document
}

fn clean(uri: &str) -> String {
    json!({
        "uri": uri, "version": "1", "language": "en",
        "headlines": [{"role": "main", "value": format!("Clean item {uri}")}],
        "bodies": [{"role": "main", "contenttype": "text/plain",
                    "value": format!("LONDON, March 1 - A clean item, {uri}, posted after the large ones.")}],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn items_at_the_size_limit_do_not_stop_their_partition() {
    // One partition: the clean item is behind the large ones for certain.
    let pipeline = Pipeline::start_with(Options {
        partitions: 1,
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    for (uri, field) in [
        ("urn:large:body", "body"),
        ("urn:large:headline", "headline"),
    ] {
        let response = pipeline
            .post("/v1/articles", "application/json", at_the_limit(uri, field))
            .await;
        let status = response.status();
        assert_eq!(
            status,
            202,
            "{uri}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let response = pipeline
        .post("/v1/articles", "application/json", clean("urn:large:after"))
        .await;
    assert_eq!(response.status(), 202);

    // The clean item is stored.
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles WHERE uri = 'urn:large:after'",
            1,
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(
        stored,
        1,
        "the item behind the large ones\n{}",
        pipeline.logs()
    );

    // Each large item is an article or a dead letter with its reason.
    for uri in ["urn:large:body", "urn:large:headline"] {
        let article: i64 = sqlx::query_scalar("SELECT count(*) FROM articles WHERE uri = $1")
            .bind(uri)
            .fetch_one(&pipeline.pool)
            .await
            .expect("articles");
        let dead = sqlx::query(
            "SELECT stage, reason, detail FROM dead_letters WHERE item_key LIKE $1 OR left(original, 2000) LIKE $1",
        )
        .bind(format!("%{uri}%"))
        .fetch_all(&pipeline.pool)
        .await
        .expect("dead_letters");
        assert_eq!(
            article + dead.len() as i64,
            1,
            "{uri}: stored {article} times, dead-lettered {} times\n{}",
            dead.len(),
            pipeline.logs()
        );
        for row in &dead {
            let reason: String = row.get("reason");
            let detail: String = row.get("detail");
            assert!(
                !reason.is_empty() && !detail.is_empty(),
                "{uri}: a dead letter says why"
            );
            eprintln!(
                "{uri}: dead letter {}/{reason}: {detail}",
                row.get::<String, _>("stage")
            );
        }
    }
    pipeline.stop().await;
}
