//! Writing records to Kafka from a stage: every record's acknowledgement is
//! awaited, records that failed transiently are sent again (only they: the
//! others are on the topic), and those the broker refuses for good are
//! handed back for the stage to dead-letter.

use std::future::Future;

use futures::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use wirestream_model::{headers, DeadLetter, Original};

use super::Context;
use crate::kafka::produce_error_class;
use crate::retry::ErrorClass;

/// One record to write.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    /// The record's schema and source headers, when `kafka.record_headers` is on.
    pub headers: Option<(&'static str, String)>,
}

impl Outgoing {
    /// A dead letter for `topic`, keyed by its origin.
    pub fn letter(
        topic: &str,
        letter: &DeadLetter,
        record_headers: bool,
    ) -> serde_json::Result<Self> {
        Ok(Outgoing {
            topic: topic.to_owned(),
            key: letter.origin.clone().unwrap_or_default(),
            payload: serde_json::to_vec(letter)?,
            headers: record_headers.then(|| ("dead-letter/1", letter.source.clone())),
        })
    }
}

/// Sends every record and waits for the broker. Transient failures are
/// retried by the context's policy; returns the records refused for good,
/// by index, with the broker's error. `None` when shutdown came first.
pub async fn send_all(
    producer: &FutureProducer,
    records: &[Outgoing],
    what: &str,
    cx: &Context,
) -> Option<Vec<(usize, KafkaError)>> {
    let mut refused = Vec::new();
    let mut pending: Vec<usize> = (0..records.len()).collect();
    let mut attempts = cx.policy.attempts(what);
    loop {
        let outcomes = tokio::select! {
            _ = cx.shutdown.cancelled() => return None,
            outcomes = send(producer, records, &pending) => outcomes,
        };
        let mut again = Vec::new();
        let mut last_error = None;
        for (index, outcome) in pending.iter().zip(outcomes) {
            match outcome {
                Ok(()) => {}
                Err(error) if produce_error_class(&error) == ErrorClass::Permanent => {
                    refused.push((*index, error));
                }
                Err(error) => {
                    again.push(*index);
                    last_error = Some(error);
                }
            }
        }
        match last_error {
            None => {
                attempts.done();
                refused.sort_by_key(|(index, _)| *index);
                return Some(refused);
            }
            Some(error) => {
                if !attempts.failed(&error, &cx.shutdown).await {
                    return None;
                }
                pending = again;
            }
        }
    }
}

fn send<'a>(
    producer: &'a FutureProducer,
    records: &'a [Outgoing],
    which: &'a [usize],
) -> impl Future<Output = Vec<Result<(), KafkaError>>> + 'a {
    let deliveries: Vec<_> = which
        .iter()
        .map(|index| {
            let record = &records[*index];
            let mut future = FutureRecord::to(&record.topic)
                .key(&record.key)
                .payload(&record.payload);
            if let Some((schema, source)) = &record.headers {
                future = future.headers(
                    OwnedHeaders::new_with_capacity(2)
                        .insert(Header {
                            key: headers::SCHEMA,
                            value: Some(*schema),
                        })
                        .insert(Header {
                            key: headers::SOURCE,
                            value: Some(source.as_str()),
                        }),
                );
            }
            producer.send_result(future).map_err(|(error, _)| error)
        })
        .collect();
    async move {
        let mut outcomes = Vec::with_capacity(deliveries.len());
        let mut waiting = Vec::new();
        for (n, delivery) in deliveries.into_iter().enumerate() {
            match delivery {
                Ok(future) => waiting.push((n, future)),
                Err(error) => outcomes.push((n, Err(error))),
            }
        }
        let (slots, futures): (Vec<usize>, Vec<_>) = waiting.into_iter().unzip();
        for (n, ack) in slots.into_iter().zip(join_all(futures).await) {
            let outcome = match ack {
                Ok(Ok(_)) => Ok(()),
                Ok(Err((error, _))) => Err(error),
                Err(_cancelled) => Err(KafkaError::Canceled),
            };
            outcomes.push((n, outcome));
        }
        outcomes.sort_by_key(|(n, _)| *n);
        outcomes.into_iter().map(|(_, outcome)| outcome).collect()
    }
}

/// Sends dead letters. A letter the broker refuses (its original is as
/// large as the item that was refused) goes again without the original,
/// its detail saying so; one refused even then is logged and dropped, so
/// that the partition moves on. Returns the letters written; `None` on shutdown.
pub async fn send_dead_letters(
    producer: &FutureProducer,
    topic: &str,
    mut letters: Vec<DeadLetter>,
    record_headers: bool,
    cx: &Context,
) -> anyhow::Result<Option<usize>> {
    use anyhow::Context as _;
    let mut sent = 0;
    for round in 0..2 {
        if letters.is_empty() {
            break;
        }
        let records = letters
            .iter()
            .map(|letter| Outgoing::letter(topic, letter, record_headers))
            .collect::<Result<Vec<_>, _>>()
            .context("failed to encode a dead letter")?;
        let Some(refused) = send_all(producer, &records, "produce dead letters", cx).await else {
            return Ok(None);
        };
        sent += letters.len() - refused.len();
        let mut retry = Vec::new();
        for (index, error) in refused {
            let mut letter = letters[index].clone();
            if round == 0 {
                letter.detail = format!(
                    "{} (the original, {} bytes, was dropped: the broker refused the letter: {error})",
                    letter.detail,
                    letter.original.len()
                );
                letter.original = Original::Utf8(String::new());
                retry.push(letter);
            } else {
                tracing::error!(%error, origin = ?letter.origin, reason = %letter.reason, "the broker refused a dead letter; dropped");
            }
        }
        letters = retry;
    }
    Ok(Some(sent))
}
