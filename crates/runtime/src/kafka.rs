//! Kafka clients built from config.
//!
//! Delivery guarantees are set here, once, for every service:
//! producers are idempotent with `acks=all`, so a retried send never doubles
//! an item on the topic; consumers never auto-store offsets, so an offset is
//! stored only by the code that has finished the work it covers (see
//! [`store_offset`] in the worker and the sink), and the periodic auto-commit
//! commits only those.

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::FutureProducer;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::KafkaConfig;

fn base(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers);
    for (key, value) in &config.common {
        client.set(key, value);
    }
    client
}

/// The settings of an idempotent, compressed producer. `extra` comes last and wins.
pub fn producer_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = base(config);
    client
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .set("message.max.bytes", config.max_message_bytes.to_string())
        // Fail a send after two minutes without the broker rather than queue forever;
        // the caller has not acknowledged the item yet, so nothing is lost.
        .set("message.timeout.ms", "120000");
    for (key, value) in &config.producer {
        client.set(key, value);
    }
    client
}

pub fn producer(config: &KafkaConfig) -> anyhow::Result<FutureProducer> {
    producer_config(config)
        .create()
        .context("failed to create the Kafka producer")
}

/// A consumer in `group_id` that stores offsets only when told to.
pub fn consumer(config: &KafkaConfig, group_id: &str) -> anyhow::Result<StreamConsumer> {
    let mut client = base(config);
    let fetch_max = config.max_message_bytes.max(1024 * 1024);
    client
        .set("group.id", group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.max.bytes", (fetch_max * 4).to_string())
        .set("max.partition.fetch.bytes", fetch_max.to_string())
        .set("receive.message.max.bytes", (fetch_max * 4 + 1024 * 1024).to_string());
    for (key, value) in &config.consumer {
        client.set(key, value);
    }
    client.create().context("failed to create the Kafka consumer")
}

/// Creates the pipeline's topics when they are missing. Existing topics are left as they are.
pub async fn ensure_topics(config: &KafkaConfig) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = base(config)
        .create()
        .context("failed to create the Kafka admin client")?;
    let topics = [
        config.raw_topic.as_str(),
        config.articles_topic.as_str(),
        config.dead_letter_topic.as_str(),
    ];
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| NewTopic::new(name, config.partitions, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .context("failed to create topics")?;
    for result in results {
        match result {
            Ok(name) => tracing::info!(topic = %name, partitions = config.partitions, "created topic"),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %name, "topic exists")
            }
            Err((name, code)) => anyhow::bail!("failed to create topic {name}: {code}"),
        }
    }
    Ok(())
}

/// Checks every `every` that the broker answers a metadata request, and
/// records the outcome as the `kafka` readiness check. Runs on a blocking
/// thread because librdkafka's metadata call blocks.
pub fn spawn_broker_check(
    config: &KafkaConfig,
    readiness: crate::ops::Readiness,
    every: Duration,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<()> {
    let client: BaseConsumer = base(config)
        .create()
        .context("failed to create the Kafka client for readiness checks")?;
    tracker.spawn_blocking(move || {
        while !shutdown.is_cancelled() {
            let outcome = match client.fetch_metadata(None, Duration::from_secs(3)) {
                Ok(metadata) if !metadata.brokers().is_empty() => Ok(()),
                Ok(_) => Err("the broker returned no brokers".to_string()),
                Err(error) => Err(format!("broker unreachable: {error}")),
            };
            readiness.set("kafka", outcome);
            // Sleep in short steps so that shutdown is not held up.
            let mut slept = Duration::ZERO;
            while slept < every && !shutdown.is_cancelled() {
                std::thread::sleep(Duration::from_millis(100));
                slept += Duration::from_millis(100);
            }
        }
    });
    Ok(())
}
