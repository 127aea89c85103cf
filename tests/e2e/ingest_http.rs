//! The HTTP API's transport features: bearer tokens and gzip bodies.

use std::io::Write as _;
use std::time::Duration;

use wirestream_tests::{Options, Pipeline};

const DOC: &str = r#"{"uri":"urn:test:auth","headlines":[{"role":"main","value":"Tokens work"}],"bodies":[{"role":"main","contenttype":"text/plain","value":"Body text."}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn bearer_tokens_guard_the_api_and_name_the_source() {
    let token_file = tempfile::NamedTempFile::new().expect("token file");
    std::fs::write(token_file.path(), "# partners\nafp:file-token-7f3a9\n").expect("write tokens");
    let toml = format!(
        "auth = {{ tokens = [{{ name = \"dpa\", token = \"config-token-c41d\" }}], token_file = \"{}\" }}",
        token_file.path().display()
    );
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(toml),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let client = reqwest::Client::new();
    let post = |token: Option<&str>| {
        let mut request = client
            .post(format!("{}/v1/articles", pipeline.ingest_url))
            .header("content-type", "application/json")
            .body(DOC);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    for token in [
        None,
        Some("config-token-c41"),
        Some("file-token-7f3a9x"),
        Some(""),
    ] {
        let response = post(token).await.expect("an answer");
        assert_eq!(response.status(), 401, "{token:?}");
        assert!(response.headers().contains_key("www-authenticate"));
        let body = response.text().await.expect("a body");
        assert!(
            !body.contains("token-"),
            "the body must not echo tokens: {body}"
        );
    }
    assert_eq!(
        pipeline.topic_messages(&pipeline.kafka.raw_topic.clone()),
        0,
        "a refused request has no effect"
    );

    for path in ["/health", "/ready", "/metrics"] {
        let response = client
            .get(format!("{}{path}", pipeline.ingest_url))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 200, "{path} needs no token");
    }

    let response = post(Some("config-token-c41d")).await.expect("an answer");
    assert_eq!(response.status(), 202, "{}", pipeline.logs());
    let response = post(Some("file-token-7f3a9")).await.expect("an answer");
    assert_eq!(response.status(), 202);

    let messages = pipeline.raw_messages(2, Duration::from_secs(30)).await;
    let mut sources: Vec<String> = messages
        .iter()
        .map(|m| m.value["source"].as_str().unwrap_or("").to_owned())
        .collect();
    sources.sort();
    assert_eq!(sources, ["http:afp", "http:dpa"]);
    let headers: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.headers.get("wirestream-source").map(String::as_str))
        .collect();
    assert_eq!(headers.len(), 2, "the source header is set: {messages:?}");

    let logs = pipeline.logs();
    assert!(
        !logs.contains("config-token-c41d") && !logs.contains("file-token-7f3a9"),
        "tokens leaked into the logs"
    );
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gzip_bodies_are_accepted() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(DOC.as_bytes()).expect("compress");
    let body = encoder.finish().expect("compress");
    let response = reqwest::Client::new()
        .post(format!("{}/v1/articles", pipeline.ingest_url))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 202);
    let messages = pipeline.raw_messages(1, Duration::from_secs(30)).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].value["headline"], "Tokens work");
    assert_eq!(messages[0].value["source"], "http");
    pipeline.stop().await;
}

/// `kafka.record_headers = false` (for consumers that want none): records
/// carry no headers, and the worker still takes each item's source from the
/// payload, for its metrics and the stored article.
#[tokio::test(flavor = "multi_thread")]
async fn records_without_headers_flow_end_to_end() {
    let pipeline = Pipeline::start_with(Options {
        env: vec![("WIRESTREAM_KAFKA__RECORD_HEADERS", "false".into())],
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let response = pipeline.post("/v1/articles", "application/json", DOC).await;
    assert_eq!(response.status(), 202);
    let messages = pipeline.raw_messages(1, Duration::from_secs(30)).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].headers.is_empty(), "{:?}", messages[0].headers);
    assert_eq!(messages[0].value["source"], "http");

    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles WHERE source = 'http'",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(stored, 1, "{}", pipeline.logs());
    let port = pipeline.port_of("worker").expect("the worker's port");
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("/metrics text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("wirestream_worker_items_consumed_total{source=\"http\"} 1")),
        "the consumed counter is labelled from the payload:\n{metrics}"
    );
    pipeline.stop().await;
}
