//! Broker faults injected with librdkafka's in-process mock cluster
//! (`rdkafka::mocking`), which fails exactly the requests it is told to:
//! deterministic where the real broker can only be stopped.
//!
//! Each scenario mirrors one against the real broker: the broker down at
//! ingest is `tests/e2e/ingest_outage.rs` (the private broker stopped); no duplicate
//! from a retried send is `tests/e2e/ingest_reuters.rs` (every key exactly
//! three times).

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use tokio_util::sync::CancellationToken;
use wirestream_ingest::{PublishError, Publisher};
use wirestream_model::{Format, Original, RawItem};
use wirestream_runtime::config::{IngestConfig, KafkaConfig};
use wirestream_runtime::Config;

const TOPIC: &str = "raw";

fn cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let cluster = MockCluster::new(1).expect("a mock cluster");
    cluster.create_topic(TOPIC, 1, 1).expect("a topic");
    cluster
}

fn kafka(brokers: String) -> KafkaConfig {
    KafkaConfig {
        brokers,
        raw_topic: TOPIC.into(),
        partitions: 1,
        ..KafkaConfig::default()
    }
}

fn ingest(ack_timeout: Duration) -> IngestConfig {
    IngestConfig {
        ack_timeout,
        ..IngestConfig::default()
    }
}

fn item(uri: &str) -> RawItem {
    let mut item = RawItem::new(
        Format::Text,
        Original::from_bytes(b"Headline\n\nBody."),
        chrono::Utc::now(),
    );
    item.uri = uri.into();
    item.provider = "test".into();
    item.headline = "Headline".into();
    item
}

/// Messages on the topic: its high watermark.
fn messages_on_topic(brokers: &str) -> i64 {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("a client");
    let (low, high) = client
        .fetch_watermarks(TOPIC, 0, Duration::from_secs(10))
        .expect("watermarks");
    high - low
}

/// A publisher on `cluster` that has sent one item (`urn:mock:0`), so that
/// its producer id and metadata are known and injected errors hit Produce.
async fn warm_publisher(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    ack_timeout: Duration,
) -> (KafkaConfig, Publisher) {
    let kafka = kafka(cluster.bootstrap_servers());
    let publisher = Publisher::new(&kafka, &ingest(ack_timeout)).expect("publisher");
    publisher
        .publish(&[item("urn:mock:0")])
        .await
        .expect("first item");
    (kafka, publisher)
}

#[tokio::test(flavor = "multi_thread")]
async fn retriable_produce_errors_are_retried_and_the_item_lands_once() {
    let cluster = cluster();
    let (kafka, publisher) = warm_publisher(&cluster, Duration::from_secs(30)).await;

    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            // The connection drops mid-request.
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
        ],
    );
    publisher
        .publish(&[item("urn:mock:1")])
        .await
        .expect("retried until the broker took it");
    assert_eq!(
        messages_on_topic(&kafka.brokers),
        2,
        "one copy of each item"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_write_is_a_clean_error() {
    let cluster = cluster();
    let (kafka, publisher) = warm_publisher(&cluster, Duration::from_secs(30)).await;

    // Not retriable: the producer gives up at once and says why.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED],
    );
    let error = publisher
        .publish(&[item("urn:mock:1")])
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, PublishError::Unavailable(detail) if detail.contains("uthoriz")),
        "{error}"
    );
    assert_eq!(messages_on_topic(&kafka.brokers), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_lost_after_start_times_out_cleanly_then_recovers() {
    let cluster = cluster();
    let (kafka, publisher) = warm_publisher(&cluster, Duration::from_secs(2)).await;

    cluster.broker_down(-1).expect("brokers down");
    let started = Instant::now();
    let error = publisher
        .publish(&[item("urn:mock:1")])
        .await
        .expect_err("no broker");
    assert!(matches!(error, PublishError::Unavailable(_)), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the error comes after ack_timeout, not message.timeout.ms: {:?}",
        started.elapsed()
    );

    // The item the caller was told failed is still queued in the producer
    // and lands once the broker returns (after librdkafka's reconnect
    // backoff, up to 10 s); a sender's retry of it would be a replay the
    // worker recognises. New items then go through as before.
    cluster.broker_up(-1).expect("brokers up");
    let deadline = Instant::now() + Duration::from_secs(30);
    while messages_on_topic(&kafka.brokers) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        messages_on_topic(&kafka.brokers),
        2,
        "the queued item landed once"
    );
    publisher
        .publish(&[item("urn:mock:2")])
        .await
        .expect("delivered after the broker came back");
    assert_eq!(messages_on_topic(&kafka.brokers), 3);
}

/// The whole service against a mock cluster whose brokers are all down: the
/// API answers 503 with Retry-After, never 202 or 500.
#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_503_while_every_broker_is_down() {
    let cluster = cluster();
    cluster.broker_down(-1).expect("brokers down");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let config = Config {
        kafka: kafka(cluster.bootstrap_servers()),
        ingest: IngestConfig {
            listen: ([127, 0, 0, 1], port).into(),
            ..ingest(Duration::from_secs(2))
        },
        ..Config::default()
    };
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(wirestream_ingest::run(config, shutdown.clone()));

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let doc = r#"{"uri":"urn:mock:api","headlines":[{"role":"main","value":"H"}],"bodies":[{"role":"main","contenttype":"text/plain","value":"B"}]}"#;
    let started = Instant::now();
    let response = loop {
        let sent = client
            .post(format!("{base}/v1/articles"))
            .header("content-type", "application/json")
            .body(doc)
            .send()
            .await;
        match sent {
            Ok(response) => break response,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("ingest never listened: {error}"),
        }
    };
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let ready = client
        .get(format!("{base}/ready"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(ready.status(), 503);

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), service).await;
    assert_eq!(
        messages_on_topic_after_up(&cluster),
        0,
        "nothing was written"
    );
}

fn messages_on_topic_after_up(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
) -> i64 {
    cluster.broker_up(-1).expect("brokers up");
    messages_on_topic(&cluster.bootstrap_servers())
}
