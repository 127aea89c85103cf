//! The sink's stage: decode a batch and drop what Postgres says was applied
//! (process), then write it in one transaction (write). The stage framework
//! consumes, batches, stores offsets and retries.

use std::collections::HashMap;

use rdkafka::message::OwnedMessage;
use rdkafka::producer::FutureProducer;
use rdkafka::Message as _;
use sqlx::PgPool;
use wirestream_model::{Article, DeadLetter, Original, Reason, Stage as StageName};
use wirestream_runtime::config::OffsetStore;
use wirestream_runtime::retry::ErrorClass;
use wirestream_runtime::stage::{self, produce, BatchOp, Context, NextOffset, Stage, Written};
use wirestream_runtime::{kafka, Config};
use wirestream_store::{BatchOutcome, OffsetCommit, StoreError};

use crate::metrics;
use crate::rebalance::RebalanceCounter;

pub struct Sink {
    rebalances: RebalanceCounter,
    producer: FutureProducer,
    pool: PgPool,
    group_id: String,
    articles_topic: String,
    dead_letter_topic: String,
    record_headers: bool,
    offsets: OffsetStore,
    /// Effectively-once mode: the next offset recorded in Postgres, per
    /// partition, as of the last rebalance. Records below it were applied.
    applied: HashMap<(String, i32), i64>,
    applied_generation: u64,
}

/// A batch's rows: articles (with where each was read from), dead letters
/// to store (keyed by origin), and records that go to the dead-letter topic.
pub struct Outputs {
    articles: Vec<Article>,
    origins: Vec<String>,
    letters: Vec<(String, DeadLetter)>,
    poison: Vec<DeadLetter>,
}

impl Sink {
    pub fn new(
        config: &Config,
        pool: PgPool,
        rebalances: RebalanceCounter,
    ) -> anyhow::Result<Self> {
        metrics::register();
        Ok(Sink {
            rebalances,
            producer: kafka::producer(&config.kafka)?,
            pool,
            group_id: config.sink.group_id.clone(),
            articles_topic: config.kafka.articles_topic.clone(),
            dead_letter_topic: config.kafka.dead_letter_topic.clone(),
            record_headers: config.kafka.record_headers,
            offsets: config.sink.offsets,
            applied: HashMap::new(),
            applied_generation: u64::MAX,
        })
    }

    /// In effectively-once mode, drops the records Postgres says were already
    /// applied (a crash between the Postgres commit and the Kafka commit, or a
    /// partition handed over by another sink). `None` on shutdown.
    async fn unapplied<'a>(
        &mut self,
        batch: &'a [OwnedMessage],
        cx: &Context,
    ) -> anyhow::Result<Option<Vec<&'a OwnedMessage>>> {
        use anyhow::Context as _;
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
            let Some(loaded) = cx
                .policy
                .run("load offsets", &cx.shutdown, classify, || {
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
            .filter(|m| {
                let key = (m.topic().to_owned(), m.partition());
                m.offset() >= self.applied.get(&key).copied().unwrap_or(0)
            })
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

    fn decode(&self, messages: &[&OwnedMessage]) -> Outputs {
        let mut out = Outputs {
            articles: Vec::new(),
            origins: Vec::new(),
            letters: Vec::new(),
            poison: Vec::new(),
        };
        for message in messages {
            let origin = stage::origin(message);
            let payload = message.payload().unwrap_or_default();
            if message.topic() == self.articles_topic {
                match serde_json::from_slice::<Article>(payload) {
                    Ok(article) => {
                        out.articles.push(article);
                        out.origins.push(origin);
                    }
                    Err(error) => out.poison.push(undecodable(
                        &origin,
                        payload,
                        &error,
                        Reason::InvalidArticle,
                    )),
                }
            } else if message.topic() == self.dead_letter_topic {
                match serde_json::from_slice::<DeadLetter>(payload) {
                    // The worker's origin (where the item was read from) keeps
                    // dead letters unique across replays of the raw topic too.
                    Ok(letter) => out
                        .letters
                        .push((letter.origin.clone().unwrap_or(origin), letter)),
                    Err(error) => {
                        // Sending it back to the dead-letter topic would loop: keep it, as text, in the table.
                        let letter =
                            undecodable(&origin, payload, &error, Reason::InvalidDeadLetter);
                        out.letters.push((origin, letter));
                    }
                }
            }
        }
        out
    }

    fn committed(&self, articles: &[Article], outcome: BatchOutcome) {
        let now = chrono::Utc::now();
        metrics::stored("articles", outcome.articles_changed as usize);
        metrics::stored("dead_letters", outcome.dead_letters_stored as usize);
        for article in articles {
            metrics::end_to_end(article.received_at, now);
        }
    }

    /// The slow path, once the batch's transaction was refused: the articles
    /// and the dead letters are written in chunks that [`stage::isolate`]
    /// narrows down to the refused rows, then the offsets alone. Returns the
    /// dead letters for the refused articles; `None` on shutdown.
    async fn write_isolating(
        &self,
        out: &mut Outputs,
        commit: Option<OffsetCommit<'_>>,
        cx: &Context,
    ) -> anyhow::Result<Option<Vec<DeadLetter>>> {
        let mut writer = Rows {
            pool: self.pool.clone(),
            outcome: BatchOutcome::default(),
        };
        let Some(refused) =
            stage::isolate(&mut writer, &mut out.articles, "write articles", cx).await
        else {
            return Ok(None);
        };
        let mut rejected = Vec::with_capacity(refused.len());
        for (index, error) in refused {
            let article = &out.articles[index];
            tracing::warn!(key = %article.key(), %error, "PostgreSQL refused an article: dead-lettered");
            rejected.push(rejected_letter(article, &out.origins[index], &error));
        }
        let Some(refused) =
            stage::isolate(&mut writer, &mut out.letters, "write dead letters", cx).await
        else {
            return Ok(None);
        };
        for (index, error) in refused {
            // A letter PostgreSQL refuses cannot go to the dead letters again: it would loop.
            let (origin, letter) = &out.letters[index];
            tracing::error!(%origin, reason = %letter.reason, %error, "PostgreSQL refused a dead letter; dropped");
        }
        if let Some(commit) = commit {
            let Some(saved) = cx
                .policy
                .run("write offsets", &cx.shutdown, classify, || {
                    wirestream_store::write_batch(&self.pool, &[], &[], Some(commit.clone()))
                })
                .await
            else {
                return Ok(None);
            };
            saved.map_err(|e| anyhow::anyhow!("failed to store the offsets: {e}"))?;
        }
        self.committed(&[], writer.outcome);
        Ok(Some(rejected))
    }
}

impl Stage for Sink {
    type Output = Outputs;

    async fn process(
        &mut self,
        batch: &[OwnedMessage],
        cx: &Context,
    ) -> anyhow::Result<Option<Outputs>> {
        let Some(fresh) = self.unapplied(batch, cx).await? else {
            return Ok(None);
        };
        let out = self.decode(&fresh);
        metrics::consumed("articles", out.articles.len() + out.poison.len());
        metrics::consumed("dead_letters", out.letters.len());
        Ok(Some(out))
    }

    async fn write(
        &mut self,
        mut out: Outputs,
        offsets: &[NextOffset],
        cx: &Context,
    ) -> anyhow::Result<Option<Written>> {
        let commit = (self.offsets == OffsetStore::Postgres).then(|| OffsetCommit {
            group_id: &self.group_id,
            offsets,
        });
        let Some(result) = cx
            .policy
            .run("write batch", &cx.shutdown, classify, || {
                wirestream_store::write_batch(
                    &self.pool,
                    &out.articles,
                    &out.letters,
                    commit.clone(),
                )
            })
            .await
        else {
            return Ok(None);
        };
        let mut written = out.articles.len() + out.letters.len();
        match result {
            Ok(outcome) => self.committed(&out.articles, outcome),
            Err(error) => {
                // Some row is refused for what it holds: find it, dead-letter
                // it, and let the partition move on.
                tracing::warn!(%error, rows = out.articles.len(), "batch refused, isolating the rows Postgres rejects");
                metrics::error(metrics::BATCH_REFUSED);
                let Some(rejected) = self.write_isolating(&mut out, commit, cx).await? else {
                    return Ok(None);
                };
                written -= rejected.len();
                out.poison.extend(rejected);
            }
        }
        let dead_lettered = out.poison.len();
        for letter in &out.poison {
            metrics::dead_letter(&letter.reason);
        }
        if !out.poison.is_empty() {
            let sent = produce::send_dead_letters(
                &self.producer,
                &self.dead_letter_topic,
                out.poison,
                self.record_headers,
                cx,
            )
            .await?;
            if sent.is_none() {
                return Ok(None);
            }
        }
        for offset in offsets {
            self.applied
                .insert((offset.topic.clone(), offset.partition), offset.next_offset);
        }
        Ok(Some(Written {
            written,
            dead_lettered,
        }))
    }
}

/// Counted here so that an outage shows on the sink-errors alert.
fn classify(error: &StoreError) -> ErrorClass {
    let class = error.class();
    if class == ErrorClass::Transient {
        metrics::error(metrics::DATABASE_UNAVAILABLE);
    }
    class
}

/// Chunks of rows written in their own transactions, for [`stage::isolate`].
struct Rows {
    pool: PgPool,
    outcome: BatchOutcome,
}

impl Rows {
    fn add(&mut self, outcome: BatchOutcome) {
        self.outcome.articles_changed += outcome.articles_changed;
        self.outcome.dead_letters_stored += outcome.dead_letters_stored;
    }
}

impl BatchOp<Article> for Rows {
    type Error = StoreError;

    fn classify(&self, error: &StoreError) -> ErrorClass {
        classify(error)
    }

    async fn apply(&mut self, items: &mut [Article]) -> Result<(), StoreError> {
        let outcome = wirestream_store::write_batch(&self.pool, items, &[], None).await?;
        self.add(outcome);
        Ok(())
    }
}

impl BatchOp<(String, DeadLetter)> for Rows {
    type Error = StoreError;

    fn classify(&self, error: &StoreError) -> ErrorClass {
        classify(error)
    }

    async fn apply(&mut self, items: &mut [(String, DeadLetter)]) -> Result<(), StoreError> {
        let outcome = wirestream_store::write_batch(&self.pool, &[], items, None).await?;
        self.add(outcome);
        Ok(())
    }
}

fn rejected_letter(article: &Article, origin: &str, error: &StoreError) -> DeadLetter {
    let bytes = serde_json::to_vec(article).unwrap_or_default();
    let mut letter = DeadLetter::new(
        StageName::Sink,
        Reason::RejectedByDatabase,
        format!("PostgreSQL refused the row: {error}"),
        Original::from_bytes(&bytes),
    );
    letter.key = Some(article.key().replace('\0', ""));
    letter.source = article.source.replace('\0', "");
    letter.received_at = Some(article.received_at);
    letter.origin = Some(origin.to_owned());
    letter
}

fn undecodable(
    origin: &str,
    payload: &[u8],
    error: &serde_json::Error,
    reason: Reason,
) -> DeadLetter {
    let mut letter = DeadLetter::new(
        StageName::Sink,
        reason,
        match reason {
            Reason::InvalidDeadLetter => format!("the record is not a dead letter: {error}"),
            _ => format!("the record is not an article: {error}"),
        },
        Original::from_bytes(payload),
    );
    letter.origin = Some(origin.to_owned());
    letter
}
