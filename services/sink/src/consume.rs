//! The consume loop: batch by size or deadline, write, commit, then store offsets.

use std::collections::{BTreeMap, HashMap};
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
use wirestream_runtime::batch::{self, BatchRule};
use wirestream_runtime::config::OffsetStore;
use wirestream_runtime::{kafka, retry, Config};
use wirestream_store::{BatchOutcome, OffsetCommit, PartitionOffset, StoreError};

use crate::metrics;
use crate::rebalance::RebalanceCounter;

pub struct Sink {
    consumer: StreamConsumer<RebalanceCounter>,
    rebalances: RebalanceCounter,
    producer: FutureProducer,
    pool: PgPool,
    group_id: String,
    articles_topic: String,
    dead_letter_topic: String,
    batching: BatchRule,
    retry_initial: Duration,
    retry_max: Duration,
    offsets: OffsetStore,
    /// Effectively-once mode: the next offset recorded in Postgres, per
    /// partition, as of the last rebalance. Records below it were applied.
    applied: HashMap<(String, i32), i64>,
    applied_generation: u64,
    lag: kafka::LagReporter,
}

impl Sink {
    pub fn new(config: &Config, pool: PgPool) -> anyhow::Result<Self> {
        let rebalances = RebalanceCounter::default();
        let consumer =
            kafka::consumer_with_context(&config.kafka, &config.sink.group_id, rebalances.clone())?;
        consumer
            .subscribe(&[
                config.kafka.articles_topic.as_str(),
                config.kafka.dead_letter_topic.as_str(),
            ])
            .context("failed to subscribe to the articles and dead-letter topics")?;
        metrics::register();
        let topics = [
            config.kafka.articles_topic.as_str(),
            config.kafka.dead_letter_topic.as_str(),
        ];
        let lag = kafka::LagReporter::new(&config.kafka, &config.sink.group_id, &topics)?;
        Ok(Sink {
            lag,
            consumer,
            rebalances,
            producer: kafka::producer(&config.kafka)?,
            pool,
            group_id: config.sink.group_id.clone(),
            articles_topic: config.kafka.articles_topic.clone(),
            dead_letter_topic: config.kafka.dead_letter_topic.clone(),
            batching: BatchRule {
                size: config.sink.batch_size.max(1),
                deadline: config.sink.batch_deadline,
                linger: config.sink.batch_linger,
            },
            retry_initial: config.sink.retry_initial,
            retry_max: config.sink.retry_max,
            offsets: config.sink.offsets,
            applied: HashMap::new(),
            applied_generation: u64::MAX,
        })
    }

    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(offsets = ?self.offsets, "sink consuming");
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
                break;
            }
            metrics::flush(batch.len(), started.elapsed());
        }
        if let Err(error) = self.consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(%error, "final offset commit skipped");
        }
        Ok(())
    }

    /// Writes one batch. Returns `false` when shutdown came while Postgres was away.
    async fn handle(
        &mut self,
        batch: &[OwnedMessage],
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let Some(fresh) = self.unapplied(batch, shutdown).await? else {
            return Ok(false);
        };
        let (articles, letters, mut poison) = self.decode(&fresh);
        metrics::consumed("articles", articles.len());
        metrics::consumed("dead_letters", letters.len());

        let offsets = next_offsets(batch);
        let commit = (self.offsets == OffsetStore::Postgres).then(|| OffsetCommit {
            group_id: &self.group_id,
            offsets: &offsets,
        });

        let all: Vec<Article> = articles.iter().map(|r| r.value.clone()).collect();
        let letter_rows: Vec<(String, DeadLetter)> = letters
            .iter()
            .map(|r| (r.origin.clone(), r.value.clone()))
            .collect();
        let Some(result) = self
            .with_retry("write batch", shutdown, || {
                wirestream_store::write_batch(&self.pool, &all, &letter_rows, commit.clone())
            })
            .await
        else {
            return Ok(false);
        };
        match result {
            Ok(outcome) => self.committed(&all, outcome),
            Err(error) => {
                // Some row is refused: write the articles one by one so that
                // only the poison rows go to the dead-letter topic, and the
                // partition moves on.
                tracing::warn!(%error, rows = all.len(), "batch refused, isolating the rows Postgres rejects");
                metrics::error(metrics::BATCH_REFUSED);
                let Some(rejected) = self.write_one_by_one(&articles, shutdown).await? else {
                    return Ok(false);
                };
                poison.extend(rejected);
                if !poison.is_empty() && !self.send_dead_letters(&poison, shutdown).await? {
                    return Ok(false);
                }
                poison.clear();
                let Some(result) = self
                    .with_retry("write dead letters", shutdown, || {
                        wirestream_store::write_batch(&self.pool, &[], &letter_rows, commit.clone())
                    })
                    .await
                else {
                    return Ok(false);
                };
                let outcome = result.context("failed to store dead letters")?;
                self.committed(&[], outcome);
            }
        }
        if !poison.is_empty() && !self.send_dead_letters(&poison, shutdown).await? {
            return Ok(false);
        }
        for offset in &offsets {
            self.applied
                .insert((offset.topic.clone(), offset.partition), offset.next_offset);
        }
        self.store_kafka_offsets(&offsets);
        Ok(true)
    }

    /// In effectively-once mode, drops the records Postgres says were already
    /// applied (a crash between the Postgres commit and the Kafka commit, or a
    /// partition handed over by another sink). `None` on shutdown.
    async fn unapplied<'a>(
        &mut self,
        batch: &'a [OwnedMessage],
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Option<Vec<&'a OwnedMessage>>> {
        if self.offsets != OffsetStore::Postgres {
            return Ok(Some(batch.iter().collect()));
        }
        let generation = self.rebalances.generation();
        if generation != self.applied_generation {
            self.applied.clear();
            self.applied_generation = generation;
        }
        let mut missing: Vec<(String, i32)> = batch
            .iter()
            .map(|m| (m.topic().to_owned(), m.partition()))
            .filter(|key| !self.applied.contains_key(key))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            let Some(loaded) = self
                .with_retry("load offsets", shutdown, || {
                    wirestream_store::load_offsets(&self.pool, &self.group_id, &missing)
                })
                .await
            else {
                return Ok(None);
            };
            let loaded = loaded.context("failed to load offsets")?;
            for key in missing {
                let next = loaded.get(&key).copied().unwrap_or(0);
                self.applied.insert(key, next);
            }
        }
        let fresh: Vec<&OwnedMessage> = batch
            .iter()
            .filter(|m| m.offset() >= self.applied[&(m.topic().to_owned(), m.partition())])
            .collect();
        if fresh.len() < batch.len() {
            metrics::skipped(batch.len() - fresh.len());
            tracing::info!(
                skipped = batch.len() - fresh.len(),
                "skipped records already applied"
            );
        }
        Ok(Some(fresh))
    }

    fn decode(
        &self,
        messages: &[&OwnedMessage],
    ) -> (Vec<Row<Article>>, Vec<Row<DeadLetter>>, Vec<DeadLetter>) {
        let mut articles = Vec::new();
        let mut letters = Vec::new();
        let mut poison = Vec::new();
        for message in messages {
            let origin = format!(
                "{}/{}/{}",
                message.topic(),
                message.partition(),
                message.offset()
            );
            let payload = message.payload().unwrap_or_default();
            if message.topic() == self.articles_topic {
                match serde_json::from_slice::<Article>(payload) {
                    Ok(article) => articles.push(Row {
                        origin,
                        value: article,
                    }),
                    Err(error) => poison.push(undecodable(&origin, payload, &error)),
                }
            } else if message.topic() == self.dead_letter_topic {
                match serde_json::from_slice::<DeadLetter>(payload) {
                    // The worker's origin (where the item was read from) keeps
                    // dead letters unique across replays of the raw topic too.
                    Ok(letter) => letters.push(Row {
                        origin: letter.origin.clone().unwrap_or(origin),
                        value: letter,
                    }),
                    Err(error) => {
                        // Sending it back to the dead-letter topic would loop: keep it, as text, in the table.
                        let mut letter = undecodable(&origin, payload, &error);
                        letter.reason = "invalid_dead_letter".into();
                        letters.push(Row {
                            origin,
                            value: letter,
                        });
                    }
                }
            }
        }
        (articles, letters, poison)
    }

    /// Writes each article in its own transaction; returns dead letters for
    /// the ones Postgres refuses. `None` on shutdown.
    async fn write_one_by_one(
        &self,
        rows: &[Row<Article>],
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Option<Vec<DeadLetter>>> {
        let mut rejected = Vec::new();
        for row in rows {
            let one = std::slice::from_ref(&row.value);
            let Some(result) = self
                .with_retry("write article", shutdown, || {
                    wirestream_store::write_batch(&self.pool, one, &[], None)
                })
                .await
            else {
                return Ok(None);
            };
            match result {
                Ok(outcome) => self.committed(one, outcome),
                Err(error) => {
                    tracing::warn!(key = %row.value.key(), %error, "PostgreSQL refused an article: dead-lettered");
                    let mut letter = DeadLetter::new(
                        "sink",
                        "rejected_by_database",
                        format!("PostgreSQL refused the row: {error}"),
                        Original::from_bytes(&serde_json::to_vec(&row.value).unwrap_or_default()),
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

    async fn with_retry<T, F, Fut>(
        &self,
        what: &str,
        shutdown: &CancellationToken,
        op: F,
    ) -> Option<Result<T, StoreError>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        // Counted here so that an outage shows on the sink-errors alert.
        let transient = |error: &StoreError| {
            let transient = error.is_transient();
            if transient {
                metrics::error(metrics::DATABASE_UNAVAILABLE);
            }
            transient
        };
        retry::with_backoff(
            what,
            self.retry_initial,
            self.retry_max,
            shutdown,
            transient,
            op,
        )
        .await
    }

    fn committed(&self, articles: &[Article], outcome: BatchOutcome) {
        let now = chrono::Utc::now();
        metrics::stored("articles", outcome.articles_changed as usize);
        metrics::stored("dead_letters", outcome.dead_letters_stored as usize);
        for article in articles {
            metrics::end_to_end(article.received_at, now);
        }
    }

    /// Sends dead letters to their topic. `false` when shutdown came first.
    async fn send_dead_letters(
        &self,
        letters: &[DeadLetter],
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let payloads: Vec<(String, Vec<u8>)> = letters
            .iter()
            .map(|l| Ok((l.origin.clone().unwrap_or_default(), serde_json::to_vec(l)?)))
            .collect::<Result<_, serde_json::Error>>()
            .context("failed to encode a dead letter")?;
        for letter in letters {
            metrics::dead_letter(&letter.reason);
        }
        let sent = retry::with_backoff(
            "produce dead letters",
            self.retry_initial,
            self.retry_max,
            shutdown,
            |_| true,
            || async {
                let deliveries = payloads
                    .iter()
                    .map(|(key, payload)| {
                        self.producer
                            .send_result(
                                FutureRecord::to(&self.dead_letter_topic)
                                    .key(key)
                                    .payload(payload),
                            )
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
            },
        )
        .await;
        match sent {
            Some(result) => result
                .map(|()| true)
                .map_err(|e| anyhow::anyhow!("failed to send dead letters: {e}")),
            None => Ok(false),
        }
    }

    /// Stores the batch's offsets for the next Kafka commit (in both modes:
    /// in Postgres mode it only saves re-reading on restart).
    fn store_kafka_offsets(&self, offsets: &[PartitionOffset]) {
        for offset in offsets {
            // librdkafka stores offset + 1: give it the last record's offset.
            if let Err(error) =
                self.consumer
                    .store_offset(&offset.topic, offset.partition, offset.next_offset - 1)
            {
                tracing::info!(%error, topic = %offset.topic, partition = offset.partition, "offset not stored (partition reassigned)");
            }
        }
    }
}

/// A row and the coordinates it was read from.
struct Row<T> {
    origin: String,
    value: T,
}

/// Per partition, one past the last record of the batch.
fn next_offsets(batch: &[OwnedMessage]) -> Vec<PartitionOffset> {
    let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for message in batch {
        let entry = last
            .entry((message.topic(), message.partition()))
            .or_insert(message.offset());
        *entry = (*entry).max(message.offset());
    }
    last.into_iter()
        .map(|((topic, partition), offset)| PartitionOffset {
            topic: topic.to_owned(),
            partition,
            next_offset: offset + 1,
        })
        .collect()
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
