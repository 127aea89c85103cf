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
use rdkafka::{Offset, TopicPartitionList};
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
        // One request in flight per broker connection. With idempotence and
        // the default of five, librdkafka's broker thread spins (poll and
        // clock_gettime) while it waits for acknowledgements: against tansu it
        // cost 0.38 CPU-seconds per 1,000 messages, against 0.02 with one,
        // and sent no faster (docs/benchmarks.md). Batches are large, so one
        // in flight still fills the link on loopback or a LAN; raise it in
        // `[kafka.producer]` for a broker far away.
        .set("max.in.flight.requests.per.connection", "1")
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

/// The settings of a consumer in `group_id` that stores offsets only when
/// told to, with fetch sizes that carry `max_message_bytes` items. `consumer`
/// in the config comes last and wins.
pub fn consumer_config(config: &KafkaConfig, group_id: &str) -> ClientConfig {
    let mut client = base(config);
    let fetch_max = config.max_message_bytes.max(1024 * 1024);
    client
        .set("group.id", group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // How long a fetch may wait at the broker for data. tansu holds a fetch
        // for the whole wait even when records arrive meanwhile, so librdkafka's
        // 500 ms default put about a second on every item's path (two hops);
        // 50 ms costs a few more idle fetches (docs/benchmarks.md).
        .set("fetch.wait.max.ms", "50")
        .set("fetch.max.bytes", (fetch_max * 4).to_string())
        .set("max.partition.fetch.bytes", fetch_max.to_string())
        .set(
            "receive.message.max.bytes",
            (fetch_max * 4 + 1024 * 1024).to_string(),
        );
    for (key, value) in &config.consumer {
        client.set(key, value);
    }
    client
}

/// A consumer in `group_id` that stores offsets only when told to.
pub fn consumer(config: &KafkaConfig, group_id: &str) -> anyhow::Result<StreamConsumer> {
    consumer_with_context(config, group_id, rdkafka::consumer::DefaultConsumerContext)
}

/// [`consumer`] with a context of the caller's, e.g. to hear about rebalances.
pub fn consumer_with_context<C>(
    config: &KafkaConfig,
    group_id: &str,
    context: C,
) -> anyhow::Result<StreamConsumer<C>>
where
    C: rdkafka::consumer::ConsumerContext + 'static,
{
    consumer_config(config, group_id)
        .create_with_context(context)
        .context("failed to create the Kafka consumer")
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
            Ok(name) => {
                tracing::info!(topic = %name, partitions = config.partitions, "created topic")
            }
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %name, "topic exists")
            }
            Err((name, code)) => anyhow::bail!("failed to create topic {name}: {code}"),
        }
    }
    Ok(())
}

/// Consecutive failed metadata requests before the broker counts as unreachable.
const BROKER_FAILURES_BEFORE_UNREADY: u32 = 2;

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
        // A broker under load can miss one metadata deadline; only a run of
        // failures means it is gone (and flips /ready and the API to 503).
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let outcome = match client.fetch_metadata(None, Duration::from_secs(5)) {
                Ok(metadata) if !metadata.brokers().is_empty() => Ok(()),
                Ok(_) => Err("the broker returned no brokers".to_string()),
                Err(error) => Err(format!("broker unreachable: {error}")),
            };
            failures = if outcome.is_ok() { 0 } else { failures + 1 };
            if outcome.is_ok() || failures >= BROKER_FAILURES_BEFORE_UNREADY {
                readiness.set("kafka", outcome);
            }
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

/// Publishes `wirestream_consumer_lag_messages{group,topic,partition}`: for
/// every partition of `topics`, the high watermark minus the group's committed
/// offset (or minus the low watermark while the group has committed nothing,
/// since the group then starts from the earliest message).
///
/// It asks the broker rather than reading librdkafka's statistics because the
/// committed offset is what a restart resumes from, and because it covers
/// every partition of the group, not only those assigned to this replica; so
/// every replica reports the same series, and dashboards take the `max`.
/// It uses its own client, which never joins the group, so it cannot trigger
/// a rebalance.
pub struct LagReporter {
    client: std::sync::Arc<BaseConsumer>,
    group: String,
    topics: Vec<String>,
}

impl LagReporter {
    pub fn new(config: &KafkaConfig, group_id: &str, topics: &[&str]) -> anyhow::Result<Self> {
        let client: BaseConsumer = base(config)
            .set("group.id", group_id)
            .set("enable.auto.commit", "false")
            .create()
            .context("failed to create the Kafka client for consumer lag")?;
        Ok(LagReporter {
            client: std::sync::Arc::new(client),
            group: group_id.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        })
    }

    /// Reports every `every` on a blocking thread (librdkafka's calls block)
    /// until `stop` fires.
    pub fn spawn(&self, every: Duration, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let client = self.client.clone();
        let group = self.group.clone();
        let topics = self.topics.clone();
        tokio::task::spawn_blocking(move || {
            while !stop.is_cancelled() {
                for topic in &topics {
                    if let Err(error) = report_lag(&client, &group, topic) {
                        tracing::debug!(%error, topic, "consumer lag not measured");
                    }
                }
                let mut slept = Duration::ZERO;
                while slept < every && !stop.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(100));
                    slept += Duration::from_millis(100);
                }
            }
        })
    }
}

fn report_lag(client: &BaseConsumer, group: &str, topic: &str) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(5);
    let metadata = client.fetch_metadata(Some(topic), timeout)?;
    let mut wanted = TopicPartitionList::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        wanted.add_partition(topic, partition.id());
    }
    let committed = client.committed_offsets(wanted, timeout)?;
    for element in committed.elements() {
        let partition = element.partition();
        let (low, high) = client.fetch_watermarks(topic, partition, timeout)?;
        let from = match element.offset() {
            Offset::Offset(offset) => offset,
            _ => low,
        };
        metrics::gauge!(
            "wirestream_consumer_lag_messages",
            "group" => group.to_owned(),
            "topic" => topic.to_owned(),
            "partition" => partition.to_string()
        )
        .set((high - from).max(0) as f64);
    }
    Ok(())
}
