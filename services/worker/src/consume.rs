//! The consume loop: batch, process, deduplicate, produce, then store offsets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::future::join_all;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message as _;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use wirestream_dedup::Deduplicator;
use wirestream_model::{headers, Article, DeadLetter};
use wirestream_runtime::batch::{self, BatchRule};
use wirestream_runtime::{kafka, retry, Config};
use wirestream_store::PgLedger;

use crate::metrics;
use crate::process::{process, Processed};

pub struct Worker {
    consumer: StreamConsumer,
    producer: FutureProducer,
    dedup: Deduplicator<PgLedger>,
    articles_topic: String,
    record_headers: bool,
    dead_letter_topic: String,
    batching: BatchRule,
    lag: kafka::LagReporter,
}

impl Worker {
    pub fn new(config: &Config, pool: PgPool) -> anyhow::Result<Self> {
        let consumer = kafka::consumer(&config.kafka, &config.worker.group_id)?;
        consumer
            .subscribe(&[config.kafka.raw_topic.as_str()])
            .context("failed to subscribe to the raw topic")?;
        metrics::register();
        let lag = kafka::LagReporter::new(
            &config.kafka,
            &config.worker.group_id,
            &[config.kafka.raw_topic.as_str()],
        )?;
        Ok(Worker {
            lag,
            consumer,
            producer: kafka::producer(&config.kafka)?,
            dedup: Deduplicator::with_config(PgLedger::new(pool), config.worker.dedup.clone()),
            articles_topic: config.kafka.articles_topic.clone(),
            record_headers: config.kafka.record_headers,
            dead_letter_topic: config.kafka.dead_letter_topic.clone(),
            batching: BatchRule {
                size: config.worker.batch_size.max(1),
                deadline: config.worker.batch_deadline,
                linger: config.worker.batch_linger,
            },
        })
    }

    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // The lag reporter stops with this loop, however it ends.
        let lag_stop = shutdown.child_token();
        let _lag_guard = lag_stop.clone().drop_guard();
        self.lag.spawn(Duration::from_secs(5), lag_stop);
        while let Some(batch) = batch::next_batch(&self.consumer, self.batching, &shutdown).await {
            let started = Instant::now();
            metrics::in_flight(batch.len());
            let handled = self.handle(&batch, &shutdown).await;
            metrics::in_flight(0);
            if !handled? {
                break; // shutdown while waiting on a dependency: the batch will be read again
            }
            metrics::batch(batch.len(), started.elapsed());
        }
        // Commit what was stored before leaving the group.
        if let Err(error) = self
            .consumer
            .commit_consumer_state(rdkafka::consumer::CommitMode::Sync)
        {
            tracing::debug!(%error, "final offset commit skipped");
        }
        Ok(())
    }

    /// Handles one batch end to end. Returns `false` when shutdown interrupted it.
    async fn handle(
        &mut self,
        batch: &[OwnedMessage],
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let now = chrono::Utc::now();
        let mut articles = Vec::with_capacity(batch.len());
        let mut letters = Vec::new();
        for message in batch {
            let origin = format!(
                "{}/{}/{}",
                message.topic(),
                message.partition(),
                message.offset()
            );
            match process(message.payload(), &origin, now) {
                Processed::Article(article) => articles.push(*article),
                Processed::DeadLetter(letter) => letters.push(*letter),
            }
        }
        // The source comes from the payload, not from a header: headers are
        // optional (`kafka.record_headers`), and the payload always has it.
        // A raw record that is not a raw item has no source to tell.
        let normalised = tally(articles.iter().map(|a| a.source.as_str()));
        let dead = tally(letters.iter().map(|l| match l.source.as_str() {
            "" => "unknown",
            source => source,
        }));
        for (source, items) in &normalised {
            metrics::consumed(source, *items);
            metrics::normalised(source, *items);
        }
        for (source, items) in dead {
            metrics::consumed(source, items);
        }

        // Postgres holds the dedup state: while it is away, wait (and stop
        // consuming) rather than guess.
        let mut pause = Duration::from_millis(100);
        loop {
            match self.dedup.decide(&mut articles).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?pause, "deduplication failed, retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(false),
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }

        for ((verdict, provider), items) in
            tally(articles.iter().map(|a| (a.verdict, a.provider.as_str())))
        {
            metrics::verdict(verdict, provider, items);
        }
        for letter in &letters {
            metrics::dead_letter(&letter.reason);
        }
        let produced = retry::with_backoff(
            "produce",
            Duration::from_millis(200),
            Duration::from_secs(5),
            shutdown,
            |_| true,
            || self.produce(&articles, &letters),
        )
        .await;
        let Some(produced) = produced else {
            return Ok(false);
        };
        produced?;
        self.store_offsets(batch);
        Ok(true)
    }

    async fn produce(&self, articles: &[Article], letters: &[DeadLetter]) -> anyhow::Result<()> {
        let mut deliveries = Vec::with_capacity(articles.len() + letters.len());
        for article in articles {
            let payload = serde_json::to_vec(article).context("failed to encode an article")?;
            deliveries.push(self.send(
                &self.articles_topic,
                &article.key(),
                &payload,
                "article/1",
                &article.source,
            )?);
        }
        for letter in letters {
            let payload = serde_json::to_vec(letter).context("failed to encode a dead letter")?;
            let key = letter.origin.clone().unwrap_or_default();
            deliveries.push(self.send(
                &self.dead_letter_topic,
                &key,
                &payload,
                "dead-letter/1",
                &letter.source,
            )?);
        }
        for ack in join_all(deliveries).await {
            match ack {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => anyhow::bail!("the broker refused a write: {error}"),
                Err(_) => anyhow::bail!("the producer shut down"),
            }
        }
        Ok(())
    }

    fn send(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        schema: &str,
        source: &str,
    ) -> anyhow::Result<rdkafka::producer::DeliveryFuture> {
        let mut record = FutureRecord::to(topic).key(key).payload(payload);
        if self.record_headers {
            record = record.headers(
                OwnedHeaders::new_with_capacity(2)
                    .insert(Header {
                        key: headers::SCHEMA,
                        value: Some(schema),
                    })
                    .insert(Header {
                        key: headers::SOURCE,
                        value: Some(source),
                    }),
            );
        }
        self.producer
            .send_result(record)
            .map_err(|(error, _)| anyhow::anyhow!("failed to queue a write to {topic}: {error}"))
    }

    /// Stores, per partition, the offset after the last message of the batch.
    fn store_offsets(&self, batch: &[OwnedMessage]) {
        let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for message in batch {
            let entry = last
                .entry((message.topic(), message.partition()))
                .or_insert(message.offset());
            *entry = (*entry).max(message.offset());
        }
        for ((topic, partition), offset) in last {
            // librdkafka stores offset + 1, the next message to read.
            if let Err(error) = self.consumer.store_offset(topic, partition, offset) {
                // The partition moved to another worker in a rebalance: it
                // re-reads from the last commit, and the replay is a no-op.
                tracing::info!(%error, topic, partition, offset, "offset not stored");
            }
        }
    }
}

/// Counts each key, so that a labelled counter is touched once per batch
/// rather than once per item (a label lookup costs a hash and a lock).
fn tally<K: Eq + std::hash::Hash>(
    keys: impl IntoIterator<Item = K>,
) -> std::collections::HashMap<K, usize> {
    let mut counts = std::collections::HashMap::new();
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}
