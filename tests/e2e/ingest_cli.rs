//! `wirestream feed`: a file with one bad line sends the good lines, exits
//! non-zero, and names the bad line by its place in the file.

use std::time::Duration;

use wirestream_tests::{binary_path, Options, Pipeline};

fn ninjs(uri: &str) -> String {
    format!(
        r#"{{"uri":"{uri}","headlines":[{{"role":"main","value":"Headline {uri}"}}],"bodies":[{{"role":"main","contenttype":"text/plain","value":"Body."}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn feed_reports_the_bad_line_of_the_file() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("wire.ndjson");
    // Line 3 is blank and line 5 is broken; with batches of 2 the bad line
    // is the 2nd line of the 2nd request, which the summary must call line 5.
    let lines = [
        ninjs("urn:cli:1"),
        ninjs("urn:cli:2"),
        String::new(),
        ninjs("urn:cli:4"),
        "{\"uri\": \"urn:cli:5\", ".into(),
        ninjs("urn:cli:6"),
    ];
    std::fs::write(&file, lines.join("\n")).expect("write");

    let output = tokio::process::Command::new(binary_path("wirestream"))
        .args([
            "feed",
            "--quiet",
            "--batch",
            "2",
            "--url",
            &pipeline.ingest_url,
        ])
        .arg(&file)
        .output()
        .await
        .expect("wirestream runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("4 accepted, 1 rejected"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:5:", file.display())),
        "the absolute line: {stderr}"
    );
    assert!(stderr.contains("invalid_json"), "{stderr}");

    let messages = pipeline.raw_messages(4, Duration::from_secs(30)).await;
    let mut uris: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.value["uri"].as_str())
        .collect();
    uris.sort();
    assert_eq!(uris, ["urn:cli:1", "urn:cli:2", "urn:cli:4", "urn:cli:6"]);
    pipeline.stop().await;
}
