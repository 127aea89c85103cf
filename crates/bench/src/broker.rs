//! The broker's own ceiling and our client stack's: a bare consumer reads a
//! topic that ingest filled, then a bare producer sends exactly those
//! payloads (same keys, headers and bytes) to a fresh topic. Both use the
//! same librdkafka settings as the services (idempotent, `acks=all`, lz4), so
//! the difference to ingest is our HTTP, parsing and bookkeeping.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Headers as _, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use wirestream_runtime::config::KafkaConfig;

/// One message as it was on the topic.
pub struct Record {
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
    headers: Vec<(String, Vec<u8>)>,
}

impl Record {
    pub fn payload(&self) -> Option<&[u8]> {
        self.payload.as_deref()
    }

    /// The same key and headers with another payload.
    pub fn with_payload(&self, payload: Vec<u8>) -> Record {
        Record {
            key: self.key.clone(),
            payload: Some(payload),
            headers: self.headers.clone(),
        }
    }
}

/// Reads `expected` messages of every partition of `topic` from the start,
/// and returns them with the consume rate (messages/s).
pub fn consume(
    config: &KafkaConfig,
    topic: &str,
    expected: usize,
) -> anyhow::Result<(Vec<Record>, f64)> {
    let mut client = wirestream_runtime::kafka::consumer_config(
        config,
        &format!("bench-{}", std::process::id()),
    );
    client.set("enable.auto.commit", "false");
    let consumer: BaseConsumer = client.create().context("failed to create the consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .context("failed to read the topic's metadata")?;
    let mut assignment = TopicPartitionList::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        assignment.add_partition_offset(topic, partition.id(), Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut records = Vec::with_capacity(expected);
    let started = Instant::now();
    let mut idle_since = Instant::now();
    while records.len() < expected {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                idle_since = Instant::now();
                let headers = message
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                            .collect()
                    })
                    .unwrap_or_default();
                records.push(Record {
                    key: message.key().map(<[u8]>::to_vec),
                    payload: message.payload().map(<[u8]>::to_vec),
                    headers,
                });
            }
            Some(Err(error)) => return Err(error).context("failed to consume"),
            None => anyhow::ensure!(
                idle_since.elapsed() < Duration::from_secs(60),
                "only {} of {expected} messages after a minute of silence",
                records.len()
            ),
        }
    }
    let rate = records.len() as f64 / started.elapsed().as_secs_f64();
    Ok((records, rate))
}

/// Sends `records` to `topic` as fast as the producer takes them, keeping at
/// most `in_flight` unacknowledged, and returns messages/s (all acknowledged).
pub async fn produce(
    config: &KafkaConfig,
    topic: &str,
    records: &[Record],
    in_flight: usize,
) -> anyhow::Result<f64> {
    let producer: FutureProducer = wirestream_runtime::kafka::producer(config)?;
    let started = Instant::now();
    let mut pending = futures::stream::FuturesUnordered::new();
    use futures::StreamExt as _;
    for record in records {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (key, value) in &record.headers {
            headers = headers.insert(rdkafka::message::Header {
                key,
                value: Some(value),
            });
        }
        let mut future = FutureRecord::<[u8], [u8]>::to(topic).headers(headers);
        if let Some(key) = &record.key {
            future = future.key(key);
        }
        if let Some(payload) = &record.payload {
            future = future.payload(payload);
        }
        pending.push(producer.send(future, Duration::from_secs(60)));
        while pending.len() >= in_flight {
            if let Some(result) = pending.next().await {
                result
                    .map_err(|(error, _)| error)
                    .context("a send failed")?;
            }
        }
    }
    while let Some(result) = pending.next().await {
        result
            .map_err(|(error, _)| error)
            .context("a send failed")?;
    }
    Ok(records.len() as f64 / started.elapsed().as_secs_f64())
}

/// CPU-seconds (user + system) this process has used so far, from /proc
/// (Linux; the harness runs there). Clock ticks are 100 per second on Linux.
pub fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The command name may hold spaces; the fields after it are numbers.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split(' ').collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}
