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
use rdkafka::producer::{BaseProducer, FutureProducer, Producer as _};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::KafkaConfig;

mod errors;

pub use errors::{create, create_with_context, LastError};

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
    create(&producer_config(config), "producer")
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
        // Fetch sizes are soft limits on Kafka: a record batch larger than
        // them is still returned whole, so they need not be as large as the
        // largest record, only the response buffer must. Prefetching less
        // than librdkafka's defaults (64 MiB queued, 50 MiB a fetch) took the
        // worker's peak RSS from 366 to 145 MiB and the sink's from 208 to
        // 98 MiB at the same rate (docs/benchmarks.md).
        .set("queued.max.messages.kbytes", "16384")
        .set("fetch.max.bytes", fetch_max.to_string())
        .set("max.partition.fetch.bytes", (1024 * 1024).to_string())
        .set(
            "receive.message.max.bytes",
            (fetch_max * 2 + 1024 * 1024).to_string(),
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
    create_with_context(&consumer_config(config, group_id), context, "consumer")
}

/// The topic settings wirestream creates its topics with.
fn topic_settings(config: &KafkaConfig) -> Vec<(&'static str, String)> {
    let mut settings = vec![("max.message.bytes", config.max_message_bytes.to_string())];
    if let Some(min) = config.min_insync_replicas {
        settings.push(("min.insync.replicas", min.to_string()));
    }
    settings
}

/// Creates the pipeline's topics when they are missing, with the partitions,
/// replication factor, `min.insync.replicas` and `max.message.bytes` of the
/// config. Existing topics are left as they are.
pub async fn ensure_topics(config: &KafkaConfig) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = create(&base(config), "admin client")?;
    let topics = [
        config.raw_topic.as_str(),
        config.articles_topic.as_str(),
        config.dead_letter_topic.as_str(),
    ];
    let settings = topic_settings(config);
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| {
            let replication = TopicReplication::Fixed(config.replication_factor);
            settings.iter().fold(
                NewTopic::new(name, config.partitions, replication),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .context("failed to create topics")?;
    for result in results {
        match result {
            Ok(name) => {
                tracing::info!(
                    topic = %name,
                    partitions = config.partitions,
                    replication_factor = config.replication_factor,
                    "created topic"
                )
            }
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %name, "topic exists")
            }
            Err((name, code)) => anyhow::bail!("failed to create topic {name}: {code}"),
        }
    }
    Ok(())
}

/// Waits until the brokers answer a metadata request with at least one
/// broker, for at most `timeout`. A broker's port can open before it serves
/// requests; scripts and tests wait on this rather than on the port.
pub async fn wait_for_broker(config: &KafkaConfig, timeout: Duration) -> anyhow::Result<()> {
    let context = LastError::default();
    let client: BaseProducer<LastError> =
        create_with_context(&base(config), context.clone(), "client")?;
    let brokers = config.brokers.clone();
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let outcome = client
                .client()
                .fetch_metadata(None, left.min(Duration::from_secs(5)));
            // Hands librdkafka's error events, with their reasons, to the context.
            client.poll(Duration::ZERO);
            let why = match outcome {
                Ok(metadata) if !metadata.brokers().is_empty() => return Ok(()),
                Ok(_) => "no brokers in the metadata".to_string(),
                Err(error) => error.to_string(),
            };
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                let why = context.explain(why);
                anyhow::bail!("Kafka at {brokers} did not answer within {timeout:?}: {why}");
            }
            std::thread::sleep(left.min(Duration::from_millis(200)));
        }
    })
    .await
    .context("the broker wait panicked")?
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
    // Its context keeps librdkafka's last error: a broker that refuses our
    // password or certificate is not merely unreachable, and /ready says so.
    let context = LastError::default();
    let client: BaseProducer<LastError> = create_with_context(
        &base(config),
        context.clone(),
        "client for readiness checks",
    )?;
    tracker.spawn_blocking(move || {
        // A broker under load can miss one metadata deadline; only a run of
        // failures means it is gone (and flips /ready and the API to 503).
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let metadata = client.client().fetch_metadata(None, Duration::from_secs(5));
            client.poll(Duration::ZERO);
            let outcome = match metadata {
                Ok(metadata) if !metadata.brokers().is_empty() => {
                    context.clear();
                    Ok(())
                }
                Ok(_) => Err("the broker returned no brokers".to_string()),
                Err(error) => Err(context.explain(format!("broker unreachable: {error}"))),
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
/// It uses its own clients, which never join a group, so they cannot trigger
/// a rebalance.
///
/// A stage also watches the group that consumes what it writes
/// ([`LagReporter::and`]): a consumer that is down reports nothing, and its
/// lag must still be seen to grow, so that the lag alert fires.
pub struct LagReporter {
    watched: Vec<Watched>,
}

/// One group's lag on some topics, measured with a client of that group's id.
struct Watched {
    client: std::sync::Arc<BaseConsumer>,
    group: String,
    topics: Vec<String>,
}

impl LagReporter {
    pub fn new(config: &KafkaConfig, group_id: &str, topics: &[&str]) -> anyhow::Result<Self> {
        LagReporter {
            watched: Vec::new(),
        }
        .and(config, group_id, topics)
    }

    /// Reports `group_id`'s lag on `topics` too.
    pub fn and(
        mut self,
        config: &KafkaConfig,
        group_id: &str,
        topics: &[&str],
    ) -> anyhow::Result<Self> {
        // Committed offsets are asked for as the client's own group.id.
        let client: BaseConsumer = create(
            base(config)
                .set("group.id", group_id)
                .set("enable.auto.commit", "false"),
            "client for consumer lag",
        )?;
        self.watched.push(Watched {
            client: std::sync::Arc::new(client),
            group: group_id.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        });
        Ok(self)
    }

    /// Reports every `every` on a blocking thread (librdkafka's calls block)
    /// until `stop` fires.
    pub fn spawn(&self, every: Duration, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let watched: Vec<(std::sync::Arc<BaseConsumer>, String, Vec<String>)> = self
            .watched
            .iter()
            .map(|w| (w.client.clone(), w.group.clone(), w.topics.clone()))
            .collect();
        tokio::task::spawn_blocking(move || {
            while !stop.is_cancelled() {
                for (client, group, topics) in &watched {
                    for topic in topics {
                        if let Err(error) = report_lag(client, group, topic) {
                            tracing::debug!(%error, group, topic, "consumer lag not measured");
                        }
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

/// The broker's answers that no retry changes: the record itself is refused.
const PERMANENT_PRODUCE_ERRORS: [RDKafkaErrorCode; 5] = [
    RDKafkaErrorCode::MessageSizeTooLarge,
    RDKafkaErrorCode::InvalidMessageSize,
    RDKafkaErrorCode::InvalidRecord,
    RDKafkaErrorCode::InvalidTimestamp,
    RDKafkaErrorCode::PolicyViolation,
];

/// Whether a failed send or delivery may succeed later. Timeouts, a broker
/// away, leader changes and a full queue are transient; a record the broker
/// refuses for its size or content is permanent, and goes to the dead letters.
pub fn produce_error_class(error: &rdkafka::error::KafkaError) -> crate::retry::ErrorClass {
    match error.rdkafka_error_code() {
        Some(code) if PERMANENT_PRODUCE_ERRORS.contains(&code) => {
            crate::retry::ErrorClass::Permanent
        }
        _ => crate::retry::ErrorClass::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::ErrorClass;
    use rdkafka::error::KafkaError;

    #[tokio::test]
    async fn waiting_for_a_broker_that_is_not_there_ends_at_the_deadline() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let config = KafkaConfig {
            brokers: format!("127.0.0.1:{port}"),
            ..KafkaConfig::default()
        };
        let started = std::time::Instant::now();
        let error = wait_for_broker(&config, Duration::from_millis(1500))
            .await
            .expect_err("nothing listens there");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!(
                "Kafka at 127.0.0.1:{port} did not answer within 1.5s"
            )),
            "{message}"
        );
    }

    #[test]
    fn a_record_too_large_is_permanent_and_a_timeout_transient() {
        let refused = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert_eq!(produce_error_class(&refused), ErrorClass::Permanent);
        let timeout = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        assert_eq!(produce_error_class(&timeout), ErrorClass::Transient);
        let full = KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull);
        assert_eq!(produce_error_class(&full), ErrorClass::Transient);
    }
}
