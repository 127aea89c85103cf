//! The Reuters corpus through the CLI, the spool folder and the batch API at
//! once: every item reaches the raw topic exactly as often as it was sent.
//!
//! Each path sends the whole corpus (18,000 items: 54,000 messages, about 30 s
//! on two cores). `WIRESTREAM_TEST_REUTERS_LINES=N` sends the first N lines
//! instead, for a quicker run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use wirestream_tests::{binary_path, shared, Options, Pipeline};

fn lines_to_send() -> Option<usize> {
    match std::env::var("WIRESTREAM_TEST_REUTERS_LINES").as_deref() {
        Ok("all") | Err(_) => None,
        Ok(n) => Some(
            n.parse()
                .expect("WIRESTREAM_TEST_REUTERS_LINES is a number or `all`"),
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reuters_corpus_through_cli_spool_and_batch_api() {
    let corpus =
        std::fs::read_to_string(shared("corpus/reuters21578.ndjson")).expect("the Reuters corpus");
    let lines: Vec<&str> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(lines_to_send().unwrap_or(usize::MAX))
        .collect();
    let sent: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("a JSON line")["uri"]
                .as_str()
                .expect("a uri")
                .to_owned()
        })
        .collect();
    let body = lines.join("\n");

    let spool = tempfile::tempdir().expect("spool folder");
    let work = tempfile::tempdir().expect("work folder");
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(format!(
            "spool = {{ dir = \"{}\", settle = \"200ms\", poll_interval = \"100ms\" }}",
            spool.path().display()
        )),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let started = Instant::now();

    // The spool: uploaded under a temporary name, then renamed into place.
    let upload = spool.path().join("reuters.ndjson.part");
    std::fs::write(&upload, &body).expect("upload");
    std::fs::rename(&upload, spool.path().join("reuters.ndjson")).expect("rename into place");

    // The CLI.
    let file = work.path().join("reuters.ndjson");
    std::fs::write(&file, &body).expect("write");
    let cli = tokio::process::Command::new(binary_path("wirestream"))
        .args(["feed", "--quiet", "--url", &pipeline.ingest_url])
        .arg(&file)
        .output();

    // The batch API, 1,000 lines a request.
    let client = reqwest::Client::new();
    let api = async {
        for chunk in lines.chunks(1000) {
            let response = client
                .post(format!("{}/v1/articles:batch", pipeline.ingest_url))
                .header("content-type", "application/x-ndjson")
                .body(chunk.join("\n"))
                .send()
                .await
                .expect("an answer");
            assert_eq!(
                response.status(),
                202,
                "{}",
                response.text().await.unwrap_or_default()
            );
        }
    };
    let (output, ()) = tokio::join!(cli, api);
    let output = output.expect("the CLI ran");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let done = spool.path().join("done/reuters.ndjson");
    while !done.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the spool file was not sent\n{}",
            pipeline.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sending = started.elapsed();

    let messages = pipeline
        .raw_messages(3 * sent.len(), Duration::from_secs(120))
        .await;
    // The watermarks tell whether more than that was written.
    let on_topic = pipeline.topic_messages(&pipeline.kafka.raw_topic.clone());
    eprintln!(
        "{} items x 3 paths accepted in {:.1}s; {} messages read back in {:.1}s",
        sent.len(),
        sending.as_secs_f64(),
        messages.len(),
        (started.elapsed() - sending).as_secs_f64()
    );
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    let mut per_uri: HashMap<&str, usize> = HashMap::new();
    for message in &messages {
        *per_key.entry(message.key.as_str()).or_default() += 1;
        *per_uri
            .entry(message.value["uri"].as_str().unwrap_or(""))
            .or_default() += 1;
    }
    assert_eq!(messages.len(), 3 * sent.len(), "every item three times");
    assert_eq!(on_topic, 3 * sent.len() as i64, "no more");
    assert_eq!(per_key.len(), sent.len(), "one key per item");
    assert!(
        per_key.values().all(|n| *n == 3),
        "a key was not seen exactly three times"
    );
    for uri in &sent {
        assert_eq!(per_uri.get(uri.as_str()), Some(&3), "{uri}");
    }
    pipeline.stop().await;
}
