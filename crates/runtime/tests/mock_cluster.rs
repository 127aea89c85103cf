//! Offset commits that fail, injected with librdkafka's in-process mock
//! cluster (`rdkafka::mocking`): a consumer built by `kafka::consumer` (the
//! worker's and the sink's) never moves its group past work it has not
//! finished, even when commits fail, so a restart replays instead of
//! skipping.
//!
//! The same rule against the real broker: the SIGKILLed sink in
//! `tests/e2e/sink.rs` (nothing lost, nothing doubled).

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use wirestream_runtime::config::KafkaConfig;
use wirestream_runtime::kafka;

const TOPIC: &str = "work";
const GROUP: &str = "workers";

fn config(brokers: String) -> KafkaConfig {
    KafkaConfig {
        brokers,
        partitions: 1,
        ..KafkaConfig::default()
    }
}

async fn produce(config: &KafkaConfig, n: usize) {
    let producer: FutureProducer = kafka::producer(config).expect("a producer");
    for i in 0..n {
        let payload = format!("item {i}");
        producer
            .send(
                FutureRecord::<(), _>::to(TOPIC).payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("produced");
    }
}

/// A consumer of the group, assigned the one partition (no rebalance to
/// wait for), reading from its committed offset.
fn consumer(config: &KafkaConfig) -> StreamConsumer {
    let consumer = kafka::consumer(config, GROUP).expect("a consumer");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(TOPIC, 0, Offset::Stored)
        .expect("an assignment");
    consumer.assign(&assignment).expect("assigned");
    consumer
}

/// The offset of the first message a consumer of the group gets.
async fn first_offset(consumer: &StreamConsumer) -> i64 {
    let message = tokio::time::timeout(Duration::from_secs(20), consumer.recv())
        .await
        .expect("a message within 20 s")
        .expect("a message");
    message.offset()
}

/// The group's committed offset, as a fresh client sees it (`None`: nothing committed).
fn committed(config: &KafkaConfig) -> Option<i64> {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", GROUP)
        .create()
        .expect("a client");
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(TOPIC, 0);
    let offsets = client
        .committed_offsets(wanted, Duration::from_secs(10))
        .expect("committed offsets");
    match offsets.elements().first().map(|e| e.offset()) {
        Some(Offset::Offset(offset)) => Some(offset),
        _ => None,
    }
}

/// Reads `n` messages and stores the offset of the first `done` of them
/// (the work finished), as the worker and the sink do.
async fn read_and_finish(consumer: &StreamConsumer, n: usize, done: usize) {
    for i in 0..n {
        let message = tokio::time::timeout(Duration::from_secs(20), consumer.recv())
            .await
            .expect("a message within 20 s")
            .expect("a message");
        if i < done {
            consumer
                .store_offset(TOPIC, 0, message.offset())
                .expect("offset stored");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_commit_moves_nothing_and_a_restart_replays() {
    let cluster = MockCluster::new(1).expect("a mock cluster");
    cluster.create_topic(TOPIC, 1, 1).expect("a topic");
    let config = config(cluster.bootstrap_servers());
    produce(&config, 10).await;

    // Every commit fails while the first consumer lives (auto-commits,
    // explicit ones, the one on close).
    let failures = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED; 500];
    cluster.request_errors(RDKafkaApiKey::OffsetCommit, &failures);
    let first = consumer(&config);
    read_and_finish(&first, 10, 5).await;
    let commit = first.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    assert!(commit.is_err(), "the injected error reaches the caller");
    // Two auto-commit intervals.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(first);
    cluster.clear_request_errors(RDKafkaApiKey::OffsetCommit);
    assert_eq!(
        committed(&config),
        None,
        "a failed commit committed nothing"
    );

    // A restart reads everything again: a replay, not a gap.
    let second = consumer(&config);
    assert_eq!(first_offset(&second).await, 0);
    drop(second);

    // With commits working, the group moves exactly past the finished work
    // (offsets 0..=4), not past what was only read (5..=9).
    let third = consumer(&config);
    read_and_finish(&third, 10, 5).await;
    let started = Instant::now();
    while committed(&config) != Some(5) && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        committed(&config),
        Some(5),
        "the auto-commit committed the stored offset"
    );
    drop(third);
    let fourth = consumer(&config);
    assert_eq!(first_offset(&fourth).await, 5);
}
