//! Every agency-shape fixture of crates/formats (prefixed namespaces,
//! UTF-16, wrong charset declarations, internal DTDs, agency variants of
//! NITF, NewsML 1.2 and NewsML-G2, old RSS, JSON Feed, ANPA 1312 and IPTC
//! 7901), posted through the HTTP API and read back from PostgreSQL: the
//! stored headline, byline, dateline and body edges are the golden ones
//! that crates/normalize/tests/golden.rs pins for the normaliser alone.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::Row as _;
use wirestream_tests::{Options, Pipeline};

include!("../../crates/normalize/tests/common/golden_table.rs");

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/formats/tests/fixtures/"
);

/// The content type a sender would use for each kind of fixture.
fn content_type(name: &str) -> &'static str {
    if name.ends_with(".json") {
        "application/feed+json"
    } else if name.ends_with(".txt") {
        "text/plain"
    } else {
        "application/xml"
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn agency_shapes_are_stored_as_their_stories() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");

    // Each fixture once, its accepted ids in document order.
    let mut ids: HashMap<&str, Vec<String>> = HashMap::new();
    for (name, ..) in GOLDEN {
        if ids.contains_key(name) {
            continue;
        }
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).expect("the fixture");
        let response = pipeline
            .post("/v1/articles", content_type(name), bytes)
            .await;
        assert_eq!(response.status(), 202, "{name}\n{}", pipeline.logs());
        let answer: serde_json::Value = response.json().await.expect("a JSON answer");
        let accepted = answer["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect();
        ids.insert(name, accepted);
    }

    // Broken files are refused, saying what and where.
    for (name, code) in [
        ("anpa-truncated.txt", "invalid_field"),
        ("nitf-xxe.xml", "forbidden_dtd"),
    ] {
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).expect("the fixture");
        let response = pipeline
            .post("/v1/articles", content_type(name), bytes)
            .await;
        assert_eq!(response.status(), 400, "{name}");
        let problem: serde_json::Value = response.json().await.expect("a JSON problem");
        assert_eq!(problem["error"], code, "{name}: {problem}");
        assert!(
            problem["message"].as_str().unwrap_or("").contains("line"),
            "{name}: {problem}"
        );
    }

    let expected = ids.values().map(Vec::len).sum::<usize>() as i64;
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles",
            expected,
            Duration::from_secs(90),
        )
        .await;
    assert_eq!(
        stored,
        expected,
        "not every item was stored\n{}",
        pipeline.logs()
    );

    for (name, index, golden) in GOLDEN {
        let uri = &ids[name][*index];
        let row = sqlx::query(
            "SELECT headline, byline, dateline, body, warnings::text FROM articles WHERE uri = $1",
        )
        .bind(uri)
        .fetch_one(&pipeline.pool)
        .await
        .unwrap_or_else(|e| panic!("{name} #{index} ({uri}): {e}"));
        let what = format!("{name} #{index}");
        assert_eq!(row.get::<String, _>("headline"), golden.headline, "{what}");
        assert_eq!(
            row.get::<Option<String>, _>("byline").as_deref(),
            golden.byline,
            "{what}"
        );
        assert_eq!(
            row.get::<Option<String>, _>("dateline").as_deref(),
            golden.dateline,
            "{what}"
        );
        let body: String = row.get("body");
        assert!(body.starts_with(golden.first), "{what}: {body:?}");
        assert!(body.ends_with(golden.last), "{what}: {body:?}");
        if *name == "rss-declared-latin1.xml" {
            let warnings: String = row.get("warnings");
            assert!(warnings.contains("windows-1252"), "{what}: {warnings}");
        }
    }
    pipeline.stop().await;
}

/// The wire formats through the spool folder and a JSON Feed through feed
/// polling: every story reaches the raw topic with its format.
#[tokio::test(flavor = "multi_thread")]
async fn wire_files_in_the_spool_and_a_json_feed_are_taken() {
    use axum::http::header;
    use axum::routing::get;

    let spool = tempfile::tempdir().expect("spool folder");
    let state = tempfile::tempdir().expect("state folder");
    let feed = std::fs::read(format!("{FIXTURES}jsonfeed-1.1.json")).expect("the feed");
    let app = axum::Router::new().route(
        "/feed.json",
        get(move || {
            let feed = feed.clone();
            async move { ([(header::CONTENT_TYPE, "application/feed+json")], feed) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let toml = format!(
        "state_dir = \"{}\"\nspool = {{ dir = \"{}\", settle = \"300ms\", poll_interval = \"100ms\" }}\n\
         feeds = [{{ url = \"{base}/feed.json\", interval = \"300ms\" }}]",
        state.path().display(),
        spool.path().display()
    );
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(toml),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");

    for name in ["anpa-1312.txt", "iptc-7901.txt"] {
        // Written under a temporary name, then renamed: a complete file.
        let partial = spool.path().join(format!("{name}.part"));
        std::fs::copy(format!("{FIXTURES}{name}"), &partial).expect("copied");
        std::fs::rename(&partial, spool.path().join(name)).expect("renamed");
    }

    let messages = pipeline.raw_messages(5, Duration::from_secs(60)).await;
    let mut formats: Vec<String> = messages
        .iter()
        .map(|m| m.value["format"].as_str().unwrap_or_default().to_owned())
        .collect();
    formats.sort();
    assert_eq!(
        formats,
        [
            "anpa-1312",
            "anpa-1312",
            "iptc-7901",
            "iptc-7901",
            "json-feed"
        ],
        "{}",
        pipeline.logs()
    );
    assert!(
        messages
            .iter()
            .any(|m| m.value["headline"] == "Salmon exports set a first-quarter record"),
        "the 7901 headline"
    );
    pipeline.stop().await;
}
