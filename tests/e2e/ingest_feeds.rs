//! Feed polling against a local HTTP server the test runs: conditional GETs,
//! only new entries published, and the seen entries kept across a restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use wirestream_tests::{Options, Pipeline};

#[derive(Default)]
struct Feeds {
    rss_items: Vec<u32>,
    atom_entries: Vec<u32>,
    /// Answer 200 with the whole feed even to a conditional GET.
    ignore_validators: bool,
    full: usize,
    not_modified: usize,
}

type Shared = Arc<Mutex<Feeds>>;

fn rss(items: &[u32]) -> String {
    let items: String = items
        .iter()
        .map(|i| {
            format!(
                "<item><title>RSS story {i}</title><link>http://news.test/rss/{i}</link><guid>urn:test:rss:{i}</guid>\
                 <description>Story number {i} from the RSS feed.</description><pubDate>Mon, 04 Mar 2024 10:0{i}:00 GMT</pubDate></item>"
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test wire</title><link>http://news.test/</link><description>t</description>{items}</channel></rss>"#
    )
}

fn atom(entries: &[u32]) -> String {
    let entries: String = entries
        .iter()
        .map(|i| {
            format!(
                "<entry><id>urn:test:atom:{i}</id><title>Atom story {i}</title><updated>2024-03-04T10:0{i}:00Z</updated>\
                 <summary>Story number {i} from the Atom feed.</summary></entry>"
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Test wire</title><id>urn:test:atom</id><updated>2024-03-04T10:00:00Z</updated>{entries}</feed>"#
    )
}

/// RSS uses `ETag`, Atom `Last-Modified`, so that both validators are exercised.
async fn serve_rss(State(feeds): State<Shared>, headers: HeaderMap) -> Response {
    let mut feeds = feeds.lock().expect("lock");
    let etag = format!("\"rss-{}\"", feeds.rss_items.len());
    let sent = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if sent == Some(etag.as_str()) && !feeds.ignore_validators {
        feeds.not_modified += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    feeds.full += 1;
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml".to_owned()),
            (header::ETAG, etag),
        ],
        rss(&feeds.rss_items),
    )
        .into_response()
}

async fn serve_atom(State(feeds): State<Shared>, headers: HeaderMap) -> Response {
    let mut feeds = feeds.lock().expect("lock");
    let modified = format!("Mon, 04 Mar 2024 10:{:02}:00 GMT", feeds.atom_entries.len());
    let sent = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok());
    if sent == Some(modified.as_str()) && !feeds.ignore_validators {
        feeds.not_modified += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    feeds.full += 1;
    (
        [
            (header::CONTENT_TYPE, "application/atom+xml".to_owned()),
            (header::LAST_MODIFIED, modified),
        ],
        atom(&feeds.atom_entries),
    )
        .into_response()
}

/// Serves `app` on a free port of the loopback; returns its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_publish_only_new_entries_across_restarts() {
    let feeds: Shared = Arc::new(Mutex::new(Feeds {
        rss_items: vec![1, 2, 3],
        atom_entries: vec![1, 2],
        ..Feeds::default()
    }));
    let app = Router::new()
        .route("/rss.xml", get(serve_rss))
        .route("/atom.xml", get(serve_atom))
        .with_state(feeds.clone());
    let base = serve(app).await;

    let state = tempfile::tempdir().expect("state folder");
    let toml = format!(
        "state_dir = \"{}\"\nfeeds = [{{ url = \"{base}/rss.xml\", interval = \"300ms\" }}, {{ url = \"{base}/atom.xml\", interval = \"300ms\" }}]",
        state.path().display()
    );
    let mut pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(toml),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let raw = pipeline.kafka.raw_topic.clone();
    let within = Duration::from_secs(30);

    // First poll: every entry.
    let messages = pipeline.raw_messages(5, within).await;
    assert_eq!(messages.len(), 5, "{}", pipeline.logs());
    let rss_source = format!("feed:{base}/rss.xml");
    let rss_count = messages
        .iter()
        .filter(|m| m.value["source"] == rss_source.as_str())
        .count();
    assert_eq!(rss_count, 3, "{messages:?}");
    assert!(messages
        .iter()
        .any(|m| m.value["uri"] == "urn:test:atom:2" && m.value["format"] == "atom"));
    assert!(messages
        .iter()
        .any(|m| m.value["headline"] == "RSS story 1" && m.value["format"] == "rss"));

    // Later polls: conditional GETs answered 304, nothing published.
    assert!(
        wait_until(within, || feeds.lock().expect("lock").not_modified >= 4).await,
        "no conditional GETs"
    );
    assert_eq!(pipeline.topic_messages(&raw), 5);

    // A new entry: published once.
    feeds.lock().expect("lock").rss_items.push(4);
    let messages = pipeline.raw_messages(6, within).await;
    assert_eq!(messages.len(), 6);
    assert!(messages.iter().any(|m| m.value["uri"] == "urn:test:rss:4"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        pipeline.topic_messages(&raw),
        6,
        "a new entry is published once"
    );

    // A restart, with a server that now ignores validators: the seen ids
    // kept in the state folder stop every entry from going out again.
    let full_before = {
        let mut feeds = feeds.lock().expect("lock");
        feeds.ignore_validators = true;
        feeds.full
    };
    pipeline.restart("ingest").await.expect("ingest restarts");
    assert!(
        wait_until(within, || feeds.lock().expect("lock").full
            >= full_before + 4)
        .await,
        "polled again"
    );
    assert_eq!(pipeline.topic_messages(&raw), 6, "{}", pipeline.logs());
    pipeline.stop().await;
}

/// An entry the broker can never take (above `kafka.max_message_bytes`) is
/// rejected once and remembered: the entries beside it are published, and
/// later polls neither send it again nor stop at it.
#[tokio::test(flavor = "multi_thread")]
async fn a_feed_entry_the_broker_can_never_take_is_rejected_once() {
    let polls = Arc::new(Mutex::new((vec![1u32, 2, 3], 0usize)));
    let served = polls.clone();
    let app = Router::new().route(
        "/rss.xml",
        get(move || {
            let served = served.clone();
            async move {
                let mut served = served.lock().expect("lock");
                served.1 += 1;
                // Entry 2's description alone is larger than the broker takes.
                let feed = rss(&served.0).replace(
                    "Story number 2 from the RSS feed.",
                    &"wire copy ".repeat(1_000),
                );
                ([(header::CONTENT_TYPE, "application/rss+xml")], feed)
            }
        }),
    );
    let base = serve(app).await;

    let state = tempfile::tempdir().expect("state folder");
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(format!(
            "state_dir = \"{}\"\nfeeds = [{{ url = \"{base}/rss.xml\", interval = \"200ms\" }}]",
            state.path().display()
        )),
        env: vec![("WIRESTREAM_KAFKA__MAX_MESSAGE_BYTES", "4096".into())],
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let within = Duration::from_secs(30);
    let uris = |messages: &[wirestream_tests::Message]| {
        let mut uris: Vec<String> = messages
            .iter()
            .map(|m| m.value["uri"].as_str().unwrap_or_default().to_owned())
            .collect();
        uris.sort();
        uris
    };

    let messages = pipeline.raw_messages(2, within).await;
    assert_eq!(
        uris(&messages),
        ["urn:test:rss:1", "urn:test:rss:3"],
        "{}",
        pipeline.logs()
    );
    assert!(
        pipeline.log_of("ingest").contains("feed entry rejected"),
        "{}",
        pipeline.logs()
    );

    // Later polls: the rejected entry is not sent again, and a new entry
    // after it is published.
    let seen = polls.lock().expect("lock").1;
    polls.lock().expect("lock").0.push(4);
    let messages = pipeline.raw_messages(3, within).await;
    assert_eq!(
        uris(&messages),
        ["urn:test:rss:1", "urn:test:rss:3", "urn:test:rss:4"]
    );
    assert!(wait_until(within, || polls.lock().expect("lock").1 >= seen + 5).await);
    assert_eq!(pipeline.topic_messages(&pipeline.kafka.raw_topic), 3);
    let rejections = pipeline
        .log_of("ingest")
        .matches("feed entry rejected")
        .count();
    assert_eq!(rejections, 1, "{}", pipeline.log_of("ingest"));
    pipeline.stop().await;
}
