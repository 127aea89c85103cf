//! With the broker away, the API answers 503 with Retry-After and the spool
//! folder keeps its files; when it returns, everything flows and nothing is lost.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use wirestream_tests::{binary_path, read_topic, Kafka, Options, Pipeline};

fn ninjs(uri: &str) -> String {
    format!(
        r#"{{"uri":"{uri}","headlines":[{{"role":"main","value":"Headline {uri}"}}],"bodies":[{{"role":"main","contenttype":"text/plain","value":"Body."}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_lost_while_the_broker_is_down() {
    let mut kafka = Kafka::new().expect("a private broker");
    let spool = tempfile::tempdir().expect("spool folder");
    let dir = spool.path();
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        brokers: Some(kafka.brokers()),
        wait_ready: false,
        ingest_toml: Some(format!(
            "ack_timeout = \"3s\"\nspool = {{ dir = \"{}\", settle = \"200ms\", poll_interval = \"100ms\" }}",
            dir.display()
        )),
        ..Options::default()
    })
    .await
    .expect("ingest starts without its broker");

    // The API says "later".
    let started = Instant::now();
    let response = loop {
        let response = pipeline
            .post(
                "/v1/articles",
                "application/json",
                ninjs("urn:outage:api-refused"),
            )
            .await;
        if response.status() == 503 || started.elapsed() > Duration::from_secs(20) {
            break response;
        }
    };
    assert_eq!(response.status(), 503);
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        retry_after.is_some_and(|v| v.parse::<u64>().is_ok()),
        "Retry-After in seconds"
    );

    // The spool keeps its file.
    std::fs::write(
        dir.join("during.ndjson"),
        [ninjs("urn:outage:s1"), ninjs("urn:outage:s2")].join("\n"),
    )
    .expect("write");
    // The CLI keeps retrying while the service answers 503.
    let cli_file = dir.join("../cli-outage.ndjson");
    std::fs::write(
        &cli_file,
        [ninjs("urn:outage:c1"), ninjs("urn:outage:c2")].join("\n"),
    )
    .expect("write");
    let cli = tokio::process::Command::new(binary_path("wirestream"))
        .args([
            "feed",
            "--quiet",
            "--retry-for",
            "90s",
            "--url",
            &pipeline.ingest_url,
        ])
        .arg(&cli_file)
        .output();
    let cli = tokio::spawn(cli);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        dir.join("during.ndjson").exists(),
        "the spool file stays while the broker is down"
    );
    assert!(
        !dir.join("failed/during.ndjson").exists(),
        "a broker outage never fails a file"
    );

    // The broker returns.
    kafka.start().await.expect("the broker starts");
    wirestream_runtime::kafka::ensure_topics(&pipeline.kafka)
        .await
        .expect("topics");
    let output = cli.await.expect("the CLI task").expect("the CLI ran");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let started = Instant::now();
    while !dir.join("done/during.ndjson").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the spool file was not sent\n{}",
            pipeline.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let response = pipeline
        .post(
            "/v1/articles",
            "application/json",
            ninjs("urn:outage:api-after"),
        )
        .await;
    assert_eq!(response.status(), 202);

    let expected: BTreeSet<&str> = [
        "urn:outage:s1",
        "urn:outage:s2",
        "urn:outage:c1",
        "urn:outage:c2",
        "urn:outage:api-after",
    ]
    .into();
    let messages = read_topic(
        &kafka.brokers(),
        &pipeline.kafka.raw_topic,
        expected.len(),
        Duration::from_secs(30),
    )
    .await;
    let got: BTreeSet<&str> = messages
        .iter()
        .filter_map(|m| m.value["uri"].as_str())
        .collect();
    assert!(
        got.is_superset(&expected),
        "lost items: {:?}",
        expected.difference(&got).collect::<Vec<_>>()
    );
    assert!(
        !got.contains("urn:outage:api-refused"),
        "a refused item is the sender's to retry"
    );
    pipeline.stop().await;
    kafka.stop().await;
}
