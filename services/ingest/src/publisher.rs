//! Writes raw items to the raw topic and waits for the broker's acknowledgement.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use wirestream_model::{headers, RawItem};
use wirestream_runtime::config::{IngestConfig, KafkaConfig};
use wirestream_runtime::kafka;

use crate::metrics;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Too many items wait for the broker: the sender should slow down.
    #[error("the producer queue is full ({0} items waiting for the broker)")]
    Busy(usize),
    /// The broker did not acknowledge in time, or refused the write.
    #[error("the broker did not acknowledge the items: {0}")]
    Unavailable(String),
    #[error("item {index} cannot be encoded: {error}")]
    Encode { index: usize, error: String },
    /// The item is larger than the broker takes (`kafka.max_message_bytes`):
    /// sending it again cannot help.
    #[error("item {index} is {bytes} bytes as a record; the broker takes at most {limit}")]
    TooLarge {
        index: usize,
        bytes: usize,
        limit: usize,
    },
    /// The broker refused the record for good (an invalid record, a policy).
    #[error("the broker refused item {index}: {error}")]
    Refused { index: usize, error: String },
}

impl PublishError {
    /// Whether sending the same items again can never succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PublishError::TooLarge { .. }
                | PublishError::Refused { .. }
                | PublishError::Encode { .. }
        )
    }

    /// For a permanent error, the index of the item that can never be
    /// sent, and a short code for metrics and logs.
    pub fn permanent_item(&self) -> Option<(usize, &'static str)> {
        match self {
            PublishError::TooLarge { index, .. } => Some((*index, "too_large")),
            PublishError::Refused { index, .. } => Some((*index, "refused")),
            PublishError::Encode { index, .. } => Some((*index, "encode")),
            PublishError::Busy(_) | PublishError::Unavailable(_) => None,
        }
    }
}

/// Sends raw items; cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    producer: FutureProducer,
    topic: Arc<str>,
    ack_timeout: Duration,
    max_in_flight: usize,
    in_flight: Arc<AtomicUsize>,
    record_headers: bool,
    max_message_bytes: usize,
}

impl Publisher {
    pub fn new(kafka: &KafkaConfig, ingest: &IngestConfig) -> anyhow::Result<Self> {
        Ok(Publisher {
            producer: wirestream_runtime::kafka::producer(kafka)?,
            topic: kafka.raw_topic.as_str().into(),
            ack_timeout: ingest.ack_timeout,
            max_in_flight: ingest.max_in_flight,
            in_flight: Arc::new(AtomicUsize::new(0)),
            record_headers: kafka.record_headers,
            max_message_bytes: kafka.max_message_bytes,
        })
    }

    /// `Some(items waiting)` when so many wait for the broker that new items
    /// would be refused (`429`): checked before a request's body is read.
    pub fn busy(&self) -> Option<usize> {
        let waiting = self.in_flight.load(Ordering::SeqCst);
        (waiting >= self.max_in_flight).then_some(waiting)
    }

    /// Sends every item and returns once the broker has acknowledged all of
    /// them. An error means the caller must not report the items as accepted
    /// (some may still reach the topic: the sender's retry makes a replay,
    /// which the worker recognises).
    pub async fn publish(&self, items: &[RawItem]) -> Result<(), PublishError> {
        if items.is_empty() {
            return Ok(());
        }
        let waiting = self.in_flight.fetch_add(items.len(), Ordering::SeqCst) + items.len();
        let _guard = InFlight {
            counter: &self.in_flight,
            items: items.len(),
        };
        metrics::in_flight(waiting);
        if waiting > self.max_in_flight {
            metrics::produce_failed("busy", items.len());
            return Err(PublishError::Busy(waiting));
        }

        let started = Instant::now();
        // Every record is encoded and measured before the first is sent, so
        // that an item the broker can never take refuses the whole batch
        // with nothing sent: the caller can drop that item and send the rest
        // without sending any twice.
        let mut records = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let payload = serde_json::to_vec(item).map_err(|e| PublishError::Encode {
                index,
                error: e.to_string(),
            })?;
            let key = item.key();
            // librdkafka would refuse it at once too; this names the limit.
            let bytes = payload.len() + key.len();
            if bytes > self.max_message_bytes {
                metrics::produce_failed("too_large", items.len());
                return Err(PublishError::TooLarge {
                    index,
                    bytes,
                    limit: self.max_message_bytes,
                });
            }
            records.push((payload, key));
        }
        let mut deliveries = Vec::with_capacity(items.len());
        let mut sizes = Vec::with_capacity(items.len());
        for (index, (item, (payload, key))) in items.iter().zip(&records).enumerate() {
            let bytes = payload.len() + key.len();
            sizes.push(bytes);
            let mut record = FutureRecord::to(&self.topic)
                .key(key.as_str())
                .payload(payload.as_slice())
                .timestamp(item.received_at.timestamp_millis());
            if self.record_headers {
                record = record.headers(record_headers(item));
            }
            match self.producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    metrics::produce_failed("queue_full", items.len());
                    return Err(PublishError::Busy(waiting));
                }
                Err((error, _)) => {
                    metrics::produce_failed("send", items.len());
                    return Err(self.failed(index, bytes, &error));
                }
            }
        }

        let acks = tokio::time::timeout(self.ack_timeout, join_all(deliveries))
            .await
            .map_err(|_| {
                metrics::produce_failed("timeout", items.len());
                PublishError::Unavailable(format!(
                    "no acknowledgement within {:?}",
                    self.ack_timeout
                ))
            })?;
        for (index, ack) in acks.into_iter().enumerate() {
            match ack {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => {
                    metrics::produce_failed("delivery", items.len());
                    return Err(self.failed(index, sizes[index], &error));
                }
                Err(_cancelled) => {
                    metrics::produce_failed("cancelled", items.len());
                    return Err(PublishError::Unavailable("the producer shut down".into()));
                }
            }
        }
        metrics::produced(items.len(), started.elapsed());
        Ok(())
    }

    /// What a send or delivery error means for the sender: a record the
    /// broker refuses for good is the sender's problem (4xx), anything else
    /// may pass (503).
    fn failed(&self, index: usize, bytes: usize, error: &KafkaError) -> PublishError {
        use wirestream_runtime::retry::ErrorClass;
        match (
            error.rdkafka_error_code(),
            kafka::produce_error_class(error),
        ) {
            (_, ErrorClass::Transient) => PublishError::Unavailable(error.to_string()),
            (Some(RDKafkaErrorCode::MessageSizeTooLarge), _) => PublishError::TooLarge {
                index,
                bytes,
                limit: self.max_message_bytes,
            },
            (_, ErrorClass::Permanent) => PublishError::Refused {
                index,
                error: error.to_string(),
            },
        }
    }

    /// Waits for queued messages to be delivered, at most `timeout`.
    pub fn flush(&self, timeout: Duration) {
        if let Err(error) = self.producer.flush(timeout) {
            tracing::warn!(%error, "producer flush did not complete");
        }
    }
}

/// Gives the in-flight slots back however `publish` ends.
struct InFlight<'a> {
    counter: &'a AtomicUsize,
    items: usize,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let left = self.counter.fetch_sub(self.items, Ordering::SeqCst) - self.items;
        metrics::in_flight(left);
    }
}

/// The `wirestream-*` headers of a raw record (docs/raw-topic.md).
fn record_headers(item: &RawItem) -> OwnedHeaders {
    let received = item
        .received_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    OwnedHeaders::new_with_capacity(4)
        .insert(Header {
            key: headers::FORMAT,
            value: Some(item.format.as_str()),
        })
        .insert(Header {
            key: headers::SOURCE,
            value: Some(item.source.as_str()),
        })
        .insert(Header {
            key: headers::RECEIVED_AT,
            value: Some(received.as_str()),
        })
        .insert(Header {
            key: headers::SCHEMA,
            value: Some("raw/1"),
        })
}
