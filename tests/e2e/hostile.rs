//! Items that parse but cannot be stored: refused at the door with a 4xx
//! naming the field, or (written around ingest) dead-lettered by the worker
//! with their reason. Either way nothing stops: a clean item sent right
//! after is stored within seconds, and `/health` stays truthful.

use std::time::Duration;

use wirestream_tests::probe::health;
use wirestream_tests::raw::{produce, raw_item};
use wirestream_tests::{Options, Pipeline};

fn ninjs(uri: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut doc = serde_json::json!({
        "uri": uri,
        "headlines": [{"role": "main", "value": "A clean headline"}],
        "bodies": [{"role": "main", "contentType": "text/plain", "value": "A clean body with a few words."}],
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            doc.insert(key.clone(), value.clone());
        }
    }
    serde_json::to_vec(&doc).expect("JSON encodes")
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_items_at_ingest_get_a_4xx_and_a_clean_item_still_flows() {
    let options = Options {
        // A broker limit small enough to reach with one request.
        env: vec![("WIRESTREAM_KAFKA__MAX_MESSAGE_BYTES", "1000000".into())],
        ..Options::default()
    };
    let pipeline = Pipeline::start_with(options)
        .await
        .expect("pipeline starts");
    let long_id = format!("urn:x:{}", "9".repeat(1200));
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "NUL in uri",
            ninjs("urn:x:1\u{0}", serde_json::json!({})),
            400,
            "uri",
        ),
        (
            "BEL in uri",
            ninjs("urn:x:\u{7}2", serde_json::json!({})),
            400,
            "uri",
        ),
        (
            "newline in uri",
            ninjs("urn:x:\n3", serde_json::json!({})),
            400,
            "uri",
        ),
        (
            "id too long",
            ninjs(&long_id, serde_json::json!({})),
            400,
            "uri",
        ),
        (
            "version above i64",
            ninjs(
                "urn:x:5",
                serde_json::json!({"version": "9223372036854775808"}),
            ),
            400,
            "version",
        ),
        (
            "NUL in headline",
            ninjs(
                "urn:x:6",
                serde_json::json!({"headlines": [{"role": "main", "value": "a\u{0}b"}]}),
            ),
            400,
            "headline",
        ),
        (
            "NUL in a subject",
            ninjs(
                "urn:x:7",
                serde_json::json!({"subjects": [{"name": "x\u{0}y", "uri": "s:1"}]}),
            ),
            400,
            "subjects",
        ),
        (
            "NUL in byline",
            ninjs("urn:x:8", serde_json::json!({"by": "By \u{0}"})),
            400,
            "byline",
        ),
        (
            "larger than the broker takes",
            ninjs(
                "urn:x:9",
                serde_json::json!({"bodies": [{"role": "main", "contentType": "text/plain", "value": "word ".repeat(250_000)}]}),
            ),
            413,
            "broker",
        ),
    ];
    for (what, body, status, says) in &cases {
        let response = pipeline
            .post("/v1/articles", "application/json", body.clone())
            .await;
        let got = response.status().as_u16();
        let problem: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(got, *status, "{what}: {problem}");
        assert!(
            problem.to_string().contains(says),
            "{what}: the answer should name {says:?}: {problem}"
        );
    }
    // A batch with one bad line refuses the whole batch, naming the field.
    let batch = [
        ninjs("urn:x:b1", serde_json::json!({})),
        ninjs("urn:x:b2\u{0}", serde_json::json!({})),
    ]
    .join(&b'\n');
    let response = pipeline
        .post("/v1/articles:batch", "application/x-ndjson", batch)
        .await;
    assert_eq!(response.status().as_u16(), 400);

    let response = pipeline
        .post(
            "/v1/articles",
            "application/json",
            ninjs("urn:x:clean", serde_json::json!({})),
        )
        .await;
    assert_eq!(response.status().as_u16(), 202);
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles WHERE uri = 'urn:x:clean'",
            1,
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(stored, 1, "the clean item is stored\n{}", pipeline.logs());
    let articles: i64 = sqlx::query_scalar("SELECT count(*) FROM articles")
        .fetch_one(&pipeline.pool)
        .await
        .expect("a count");
    assert_eq!(articles, 1, "nothing refused was stored");
    for port in pipeline.ports {
        assert_eq!(health(port).await, 200, "port {port} is healthy");
    }
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_records_on_the_raw_topic_become_dead_letters_and_partitions_move_on() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let long_id = format!("urn:x:{}", "9".repeat(1200));
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        (
            "urn:x:1\u{0}",
            raw_item("urn:x:1\u{0}", serde_json::json!({})),
        ),
        ("bel", raw_item("urn:x:\u{7}", serde_json::json!({}))),
        ("long", raw_item(&long_id, serde_json::json!({}))),
        (
            "version",
            raw_item(
                "urn:x:v",
                serde_json::json!({"version": 9223372036854775808u64}),
            ),
        ),
        (
            "headline",
            raw_item("urn:x:h", serde_json::json!({"headline": "a\u{0}b"})),
        ),
        (
            "subject",
            raw_item(
                "urn:x:s",
                serde_json::json!({"subjects": [{"name": "x\u{0}"}]}),
            ),
        ),
        (
            "original",
            raw_item(
                "urn:x:o",
                serde_json::json!({"original": {"encoding": "utf8", "data": "a\u{0}"}}),
            ),
        ),
        ("not json", b"\xff\xfe not a raw item".to_vec()),
    ];
    // Spread over every partition (the key picks it), clean items behind them.
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for (n, (key, payload)) in hostile.iter().enumerate() {
        records.push((format!("{key}-{n}"), payload.clone()));
        let clean = format!("urn:x:clean-{n}");
        records.push((
            format!("clean-{n}"),
            raw_item(&clean, serde_json::json!({})),
        ));
    }
    produce(&pipeline.kafka.brokers, &pipeline.kafka.raw_topic, &records).await;
    let clean = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles WHERE uri LIKE 'urn:x:clean-%'",
            hostile.len() as i64,
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(
        clean,
        hostile.len() as i64,
        "every clean item is stored\n{}",
        pipeline.logs()
    );
    let letters = pipeline
        .wait_for_count(
            "SELECT count(*) FROM dead_letters",
            hostile.len() as i64,
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(letters, hostile.len() as i64, "{}", pipeline.logs());
    let reasons: Vec<(String, String)> =
        sqlx::query_as("SELECT reason, stage FROM dead_letters ORDER BY reason")
            .fetch_all(&pipeline.pool)
            .await
            .expect("dead letters");
    let invalid = reasons.iter().filter(|(r, _)| r == "invalid_field").count();
    assert_eq!(invalid, hostile.len() - 1, "{reasons:?}");
    assert!(
        reasons.iter().any(|(r, _)| r == "invalid_raw_item"),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().all(|(_, stage)| stage == "worker"),
        "{reasons:?}"
    );
    let articles: i64 = sqlx::query_scalar("SELECT count(*) FROM articles")
        .fetch_one(&pipeline.pool)
        .await
        .expect("a count");
    assert_eq!(
        articles,
        hostile.len() as i64,
        "only the clean items are articles"
    );
    for port in pipeline.ports {
        assert_eq!(health(port).await, 200, "port {port} is healthy");
    }
    pipeline.stop().await;
}

/// Words that do not repeat: each becomes its own lexeme in the search index.
fn distinct_words(count: usize) -> String {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut text = String::with_capacity(count * 9);
    for _ in 0..count {
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push(char::from(b'a' + (seed % 26) as u8));
        }
        text.push(' ');
    }
    text
}

/// A case the rules at the door do not catch: a body whose full-text entry
/// is larger than PostgreSQL's tsvector limit (1 MB, SQLSTATE 54000). It is
/// accepted, refused by PostgreSQL in the sink, isolated from its batch and
/// dead-lettered; the item sent with it is stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_row_over_a_postgres_limit_is_dead_lettered_and_its_neighbour_stored() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let huge = ninjs(
        "urn:x:huge",
        serde_json::json!({"bodies": [{"role": "main", "contentType": "text/plain", "value": distinct_words(200_000)}]}),
    );
    let batch = [huge, ninjs("urn:x:neighbour", serde_json::json!({}))].join(&b'\n');
    let response = pipeline
        .post("/v1/articles:batch", "application/x-ndjson", batch)
        .await;
    assert_eq!(response.status().as_u16(), 202);
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles WHERE uri = 'urn:x:neighbour'",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(stored, 1, "{}", pipeline.logs());
    let letters = pipeline
        .wait_for_count(
            "SELECT count(*) FROM dead_letters WHERE reason = 'rejected_by_database' AND stage = 'sink'",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(letters, 1, "{}", pipeline.logs());
    for port in pipeline.ports {
        assert_eq!(health(port).await, 200, "port {port} is healthy");
    }
    pipeline.stop().await;
}
