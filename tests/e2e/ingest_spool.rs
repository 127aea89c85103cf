//! The spool folder: complete files are published then moved to `done/`,
//! broken ones go to `failed/` with a `.error` report, uploads in progress
//! are left alone, and a restart does not send a finished file again.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use wirestream_tests::{Options, Pipeline};

const NITF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<nitf><head><title>Spool story</title><docdata><doc-id id-string="urn:test:spool-nitf"/></docdata></head>
<body><body.head><hedline><hl1>Spool story</hl1></hedline></body.head>
<body.content><p>Dropped into the spool folder.</p></body.content></body></nitf>"#;

fn ninjs(uri: &str) -> String {
    format!(
        r#"{{"uri":"{uri}","headlines":[{{"role":"main","value":"Headline {uri}"}}],"bodies":[{{"role":"main","contenttype":"text/plain","value":"Body."}}]}}"#
    )
}

pub async fn wait_for_file(path: &Path, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn spool_files_are_published_once_and_moved() {
    let spool = tempfile::tempdir().expect("spool folder");
    let dir = spool.path();
    let mut pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(format!(
            "spool = {{ dir = \"{}\", settle = \"300ms\", poll_interval = \"100ms\" }}",
            dir.display()
        )),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let within = Duration::from_secs(30);

    std::fs::write(dir.join("story.xml.tmp"), NITF).expect("an upload in progress");
    std::fs::write(dir.join(".hidden.ndjson"), ninjs("urn:test:hidden")).expect("a hidden file");
    std::fs::write(
        dir.join("good.ndjson"),
        [
            ninjs("urn:test:s1"),
            ninjs("urn:test:s2"),
            ninjs("urn:test:s3"),
        ]
        .join("\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("bad.ndjson"),
        format!(
            "{}\n{{\"uri\": \"urn:test:cut\", \"headl\n",
            ninjs("urn:test:ok")
        ),
    )
    .expect("write");

    assert!(
        wait_for_file(&dir.join("done/good.ndjson"), within).await,
        "{}",
        pipeline.logs()
    );
    assert!(
        wait_for_file(&dir.join("failed/bad.ndjson"), within).await,
        "{}",
        pipeline.logs()
    );
    let report =
        std::fs::read_to_string(dir.join("failed/bad.ndjson.error")).expect("the .error file");
    assert!(
        report.starts_with("invalid_json: line 2"),
        "a precise report: {report}"
    );
    assert!(!dir.join("good.ndjson").exists() && !dir.join("bad.ndjson").exists());

    // An upload renamed into place is picked up then.
    std::fs::rename(dir.join("story.xml.tmp"), dir.join("story.xml")).expect("rename");
    assert!(
        wait_for_file(&dir.join("done/story.xml"), within).await,
        "{}",
        pipeline.logs()
    );

    // A file written slowly in place is read only once it has settled.
    {
        let mut file = std::fs::File::create(dir.join("slow.txt")).expect("create");
        for part in [
            "SLOW HEADLINE\n\n",
            "First part of the body. ",
            "Last part of the body.",
        ] {
            file.write_all(part.as_bytes()).expect("write");
            file.flush().expect("flush");
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    }
    assert!(
        wait_for_file(&dir.join("done/slow.txt"), within).await,
        "{}",
        pipeline.logs()
    );

    let messages = pipeline.raw_messages(5, within).await;
    assert_eq!(messages.len(), 5, "{messages:?}");
    let mut uris: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.value["uri"].as_str())
        .collect();
    uris.sort();
    assert_eq!(
        &uris[..4],
        [
            "urn:test:s1",
            "urn:test:s2",
            "urn:test:s3",
            "urn:test:spool-nitf"
        ]
    );
    let slow = messages
        .iter()
        .find(|m| m.value["format"] == "text")
        .expect("the slow file's item");
    assert!(
        slow.value["body"]["value"]
            .as_str()
            .unwrap_or("")
            .ends_with("Last part of the body."),
        "{slow:?}"
    );
    let source = format!("spool:{}", dir.display());
    assert!(
        messages
            .iter()
            .all(|m| m.value["source"] == source.as_str()),
        "{messages:?}"
    );
    assert!(
        dir.join(".hidden.ndjson").exists(),
        "hidden files are left alone"
    );

    // A restart does not send the finished files again.
    pipeline.restart("ingest").await.expect("ingest restarts");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        pipeline.topic_messages(&pipeline.kafka.raw_topic.clone()),
        5
    );
    pipeline.stop().await;
}

/// A file with an item the broker can never take (larger than
/// `kafka.max_message_bytes`) goes to `failed/` with the reason, instead of
/// being tried forever, and the files after it are published.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_the_broker_can_never_take_is_failed_not_retried() {
    let spool = tempfile::tempdir().expect("spool folder");
    let dir = spool.path();
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(format!(
            "spool = {{ dir = \"{}\", settle = \"200ms\", poll_interval = \"100ms\" }}",
            dir.display()
        )),
        // Records above 4 KB are refused before they are sent.
        env: vec![("WIRESTREAM_KAFKA__MAX_MESSAGE_BYTES", "4096".into())],
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let within = Duration::from_secs(30);
    let large = format!(
        r#"{{"uri":"urn:test:too-large","headlines":[{{"role":"main","value":"Large"}}],"bodies":[{{"role":"main","contenttype":"text/plain","value":"{}"}}]}}"#,
        "wire copy ".repeat(1_000)
    );
    std::fs::write(dir.join("a-large.ndjson"), large).expect("write");
    assert!(
        wait_for_file(&dir.join("failed/a-large.ndjson"), within).await,
        "the file was not failed\n{}",
        pipeline.logs()
    );
    let report =
        std::fs::read_to_string(dir.join("failed/a-large.ndjson.error")).expect("the report");
    assert!(report.contains("bytes as a record"), "{report}");

    std::fs::write(dir.join("b-small.ndjson"), ninjs("urn:test:after-large")).expect("write");
    assert!(
        wait_for_file(&dir.join("done/b-small.ndjson"), within).await,
        "the next file was not published\n{}",
        pipeline.logs()
    );
    pipeline.stop().await;
}
