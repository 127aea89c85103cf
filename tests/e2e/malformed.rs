use wirestream_tests::Pipeline;

/// Malformed requests get a 4xx that says what is wrong, and nothing reaches Kafka.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_are_refused_and_nothing_is_written() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let cases: [(&str, &str, &[u8], u16, &str); 5] = [
        (
            "/v1/articles",
            "application/json",
            b"{\"uri\": \"x\", \"headlines\": [",
            400,
            "line 1",
        ),
        ("/v1/articles", "application/json", b"", 400, "empty"),
        ("/v1/articles", "text/plain", b"   \n\n ", 400, "empty"),
        (
            "/v1/articles",
            "image/png",
            b"\x89PNG....",
            415,
            "image/png",
        ),
        (
            "/v1/articles:batch",
            "application/x-ndjson",
            b"{\"uri\":\"a\",\"headlines\":[{\"role\":\"main\",\"value\":\"ok\"}]}\n{broken\n",
            400,
            "line 2",
        ),
    ];
    for (path, content_type, body, status, says) in cases {
        let response = pipeline.post(path, content_type, body.to_vec()).await;
        assert_eq!(
            response.status().as_u16(),
            status,
            "{content_type} {:?}",
            String::from_utf8_lossy(body)
        );
        let problem: serde_json::Value = response.json().await.expect("a JSON problem");
        let message = format!(
            "{} {} {}",
            problem["error"], problem["message"], problem["errors"]
        );
        assert!(
            message.to_lowercase().contains(&says.to_lowercase()),
            "the message for {content_type} should mention {says:?}: {problem}"
        );
    }
    assert_eq!(
        pipeline.topic_messages(&pipeline.kafka.raw_topic.clone()),
        0,
        "nothing may reach the raw topic"
    );
    pipeline.stop().await;
}
