//! The consume loop: batch by size or deadline, write, commit, then store offsets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::future::join_all;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message as _;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use wirestream_model::{Article, DeadLetter, Original};
use wirestream_runtime::{kafka, retry, Config};
use wirestream_store::StoreError;

use crate::metrics;

pub struct Sink {
    consumer: StreamConsumer,
    producer: FutureProducer,
    pool: PgPool,
    articles_topic: String,
    dead_letter_topic: String,
    batch_size: usize,
    batch_deadline: Duration,
    retry_initial: Duration,
    retry_max: Duration,
}

/// A row and the coordinates it was read from.
struct Row<T> {
    origin: String,
    value: T,
}

impl Sink {
    pub fn new(config: &Config, pool: PgPool) -> anyhow::Result<Self> {
        let consumer = kafka::consumer(&config.kafka, &config.sink.group_id)?;
        consumer
            .subscribe(&[config.kafka.articles_topic.as_str(), config.kafka.dead_letter_topic.as_str()])
            .context("failed to subscribe to the articles and dead-letter topics")?;
        Ok(Sink {
            consumer,
            producer: kafka::producer(&config.kafka)?,
            pool,
            articles_topic: config.kafka.articles_topic.clone(),
            dead_letter_topic: config.kafka.dead_letter_topic.clone(),
            batch_size: config.sink.batch_size.max(1),
            batch_deadline: config.sink.batch_deadline,
            retry_initial: config.sink.retry_initial,
            retry_max: config.sink.retry_max,
        })
    }

    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        while let Some(batch) = self.next_batch(&shutdown).await {
            let started = Instant::now();
            if !self.handle(&batch, &shutdown).await? {
                break;
            }
            metrics::flush(batch.len(), started.elapsed());
        }
        if let Err(error) = self.consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(%error, "final offset commit skipped");
        }
        Ok(())
    }

    async fn next_batch(&self, shutdown: &CancellationToken) -> Option<Vec<OwnedMessage>> {
        let mut batch = Vec::with_capacity(self.batch_size);
        loop {
            let received = tokio::select! {
                _ = shutdown.cancelled() => return None,
                received = self.consumer.recv() => received,
            };
            match received {
                Ok(message) => {
                    batch.push(message.detach());
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "failed to read from Kafka");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        let deadline = tokio::time::Instant::now() + self.batch_deadline;
        while batch.len() < self.batch_size {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(message)) => batch.push(message.detach()),
                Ok(Err(error)) => tracing::warn!(%error, "failed to read from Kafka"),
                Err(_deadline) => break,
            }
        }
        Some(batch)
    }

    /// Writes one batch. Returns `false` when shutdown came while Postgres was away.
    async fn handle(&self, batch: &[OwnedMessage], shutdown: &CancellationToken) -> anyhow::Result<bool> {
        let mut articles = Vec::new();
        let mut letters = Vec::new();
        let mut poison = Vec::new();
        for message in batch {
            let origin = format!("{}/{}/{}", message.topic(), message.partition(), message.offset());
            let payload = message.payload().unwrap_or_default();
            if message.topic() == self.articles_topic {
                match serde_json::from_slice::<Article>(payload) {
                    Ok(article) => articles.push(Row { origin, value: article }),
                    Err(error) => poison.push(undecodable(&origin, payload, &error)),
                }
            } else if message.topic() == self.dead_letter_topic {
                match serde_json::from_slice::<DeadLetter>(payload) {
                    // The worker's origin (where the item was read from) keeps
                    // dead letters unique across replays of the raw topic too.
                    Ok(letter) => letters.push(Row { origin: letter.origin.clone().unwrap_or(origin), value: letter }),
                    Err(error) => {
                        // Sending it back to the dead-letter topic would loop: keep it, as text, in the table.
                        let mut letter = undecodable(&origin, payload, &error);
                        letter.reason = "invalid_dead_letter".into();
                        letters.push(Row { origin, value: letter });
                    }
                }
            }
        }
        metrics::consumed("articles", articles.len());
        metrics::consumed("dead_letters", letters.len());

        let Some(rejected) = self.write_articles(&articles, shutdown).await? else { return Ok(false) };
        poison.extend(rejected);
        if !poison.is_empty() && !self.send_dead_letters(&poison, shutdown).await? {
            return Ok(false);
        }
        if self.write_dead_letters(&letters, shutdown).await?.is_none() {
            return Ok(false);
        }
        self.store_offsets(batch);
        Ok(true)
    }

    /// Writes the articles; returns dead letters for rows Postgres refused.
    async fn write_articles(
        &self,
        rows: &[Row<Article>],
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Option<Vec<DeadLetter>>> {
        if rows.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let all: Vec<Article> = rows.iter().map(|r| r.value.clone()).collect();
        let Some(result) = self.with_retry("write articles", shutdown, || wirestream_store::write_articles(&self.pool, &all)).await
        else {
            return Ok(None);
        };
        match result {
            Ok(_) => {
                self.committed(&all);
                Ok(Some(Vec::new()))
            }
            Err(error) => {
                // Some row is refused: write them one by one so that only the
                // poison rows go to the dead-letter topic, and the partition moves on.
                tracing::warn!(error = %error, rows = rows.len(), "batch refused, isolating the rows Postgres rejects");
                metrics::error("batch_refused");
                let mut rejected = Vec::new();
                for row in rows {
                    let one = std::slice::from_ref(&row.value);
                    let Some(result) = self.with_retry("write article", shutdown, || wirestream_store::write_articles(&self.pool, one)).await
                    else {
                        return Ok(None);
                    };
                    match result {
                        Ok(_) => self.committed(one),
                        Err(error) => {
                            let detail = format!("PostgreSQL refused the row: {error}");
                            let mut letter = DeadLetter::new(
                                "sink",
                                "rejected_by_database",
                                detail,
                                Original::Utf8(serde_json::to_string(&row.value).unwrap_or_default()),
                            );
                            letter.key = Some(row.value.key());
                            letter.source = row.value.source.clone();
                            letter.received_at = Some(row.value.received_at);
                            letter.origin = Some(row.origin.clone());
                            rejected.push(letter);
                        }
                    }
                }
                Ok(Some(rejected))
            }
        }
    }

    async fn write_dead_letters(&self, rows: &[Row<DeadLetter>], shutdown: &CancellationToken) -> anyhow::Result<Option<()>> {
        if rows.is_empty() {
            return Ok(Some(()));
        }
        let batch: Vec<(String, DeadLetter)> = rows.iter().map(|r| (r.origin.clone(), r.value.clone())).collect();
        let Some(result) = self.with_retry("write dead letters", shutdown, || wirestream_store::write_dead_letters(&self.pool, &batch)).await
        else {
            return Ok(None);
        };
        result.context("failed to store dead letters")?;
        metrics::stored("dead_letters", batch.len());
        Ok(Some(()))
    }

    async fn with_retry<T, F, Fut>(&self, what: &str, shutdown: &CancellationToken, op: F) -> Option<Result<T, StoreError>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        retry::with_backoff(what, self.retry_initial, self.retry_max, shutdown, StoreError::is_transient, op).await
    }

    fn committed(&self, articles: &[Article]) {
        let now = chrono::Utc::now();
        metrics::stored("articles", articles.len());
        for article in articles {
            metrics::end_to_end(article.received_at, now);
        }
    }

    /// Sends dead letters to their topic. `false` when shutdown came first.
    async fn send_dead_letters(&self, letters: &[DeadLetter], shutdown: &CancellationToken) -> anyhow::Result<bool> {
        let payloads: Vec<(String, Vec<u8>)> = letters
            .iter()
            .map(|l| Ok((l.origin.clone().unwrap_or_default(), serde_json::to_vec(l)?)))
            .collect::<Result<_, serde_json::Error>>()
            .context("failed to encode a dead letter")?;
        for letter in letters {
            metrics::dead_letter(&letter.reason);
        }
        let sent = retry::with_backoff("produce dead letters", self.retry_initial, self.retry_max, shutdown, |_| true, || async {
            let deliveries = payloads
                .iter()
                .map(|(key, payload)| {
                    self.producer
                        .send_result(FutureRecord::to(&self.dead_letter_topic).key(key).payload(payload))
                        .map_err(|(error, _)| error.to_string())
                })
                .collect::<Result<Vec<_>, String>>()?;
            for ack in join_all(deliveries).await {
                match ack {
                    Ok(Ok(_)) => {}
                    Ok(Err((error, _))) => return Err(error.to_string()),
                    Err(_) => return Err("the producer shut down".to_string()),
                }
            }
            Ok(())
        })
        .await;
        match sent {
            Some(result) => result.map(|()| true).map_err(|e| anyhow::anyhow!("failed to send dead letters: {e}")),
            None => Ok(false),
        }
    }

    fn store_offsets(&self, batch: &[OwnedMessage]) {
        let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for message in batch {
            let entry = last.entry((message.topic(), message.partition())).or_insert(message.offset());
            *entry = (*entry).max(message.offset());
        }
        for ((topic, partition), offset) in last {
            if let Err(error) = self.consumer.store_offset(topic, partition, offset) {
                tracing::info!(%error, topic, partition, offset, "offset not stored (partition reassigned)");
            }
        }
    }
}

fn undecodable(origin: &str, payload: &[u8], error: &serde_json::Error) -> DeadLetter {
    let mut letter = DeadLetter::new(
        "sink",
        "invalid_article",
        format!("the record is not an article: {error}"),
        Original::from_bytes(payload),
    );
    letter.origin = Some(origin.to_owned());
    letter
}
