//! The worker's stage: decode, check, normalise and deduplicate a batch
//! (process), then write its articles and dead letters (write). The stage
//! framework consumes, batches, stores offsets and retries.

use rdkafka::message::OwnedMessage;
use rdkafka::producer::FutureProducer;
use rdkafka::Message as _;
use sqlx::PgPool;
use wirestream_dedup::{DedupConfig, Deduplicator, LedgerError};
use wirestream_model::{Article, DeadLetter, Reason, Stage as StageName};
use wirestream_runtime::retry::ErrorClass;
use wirestream_runtime::stage::produce::{self, Outgoing};
use wirestream_runtime::stage::{self, BatchOp, Context, NextOffset, Stage, Written};
use wirestream_runtime::{kafka, Config};
use wirestream_store::PgLedger;

use crate::claim_size::ClaimSize;
use crate::metrics;
use crate::process::{process, Processed};

pub struct Worker {
    producer: FutureProducer,
    dedup: Dedup,
    articles_topic: String,
    dead_letter_topic: String,
    record_headers: bool,
}

/// A batch's articles (with where each was read from) and dead letters.
pub struct Outputs {
    articles: Vec<Article>,
    origins: Vec<String>,
    letters: Vec<DeadLetter>,
}

impl Worker {
    pub fn new(config: &Config, pool: PgPool, dedup: DedupConfig) -> anyhow::Result<Self> {
        Ok(Worker {
            producer: kafka::producer(&config.kafka)?,
            dedup: Dedup {
                decider: Deduplicator::with_config(PgLedger::new(pool), dedup),
                claim_size: ClaimSize::default(),
            },
            articles_topic: config.kafka.articles_topic.clone(),
            dead_letter_topic: config.kafka.dead_letter_topic.clone(),
            record_headers: config.kafka.record_headers,
        })
    }

    /// A batch's late items: counted, and one line per batch with the count
    /// only (a line per item would flood the log during a replay).
    fn count_late(&self, late: u64) {
        metrics::late(late);
        if late > 0 {
            let lateness = self.dedup.decider.config().allowed_lateness;
            tracing::warn!(
                late,
                allowed_lateness = %humantime::format_duration(lateness),
                "items older than the allowed lateness behind the newest article time: their verdicts may depend on timing (docs/dedup.md, \"Late items and allowed lateness\")"
            );
        }
    }
}

impl Stage for Worker {
    type Output = Outputs;

    async fn process(
        &mut self,
        batch: &[OwnedMessage],
        cx: &Context,
    ) -> anyhow::Result<Option<Outputs>> {
        let now = chrono::Utc::now();
        let mut out = Outputs {
            articles: Vec::with_capacity(batch.len()),
            origins: Vec::with_capacity(batch.len()),
            letters: Vec::new(),
        };
        for message in batch {
            let origin = stage::origin(message);
            match process(message.payload(), &origin, now) {
                Processed::Article(article) => {
                    out.articles.push(*article);
                    out.origins.push(origin);
                }
                Processed::DeadLetter(letter) => out.letters.push(*letter),
            }
        }
        count_consumed(&out);

        // Postgres holds the dedup state: while it is away, wait (and stop
        // consuming) rather than guess; an item it refuses is dead-lettered.
        let late = self.dedup.decider.late();
        let decided = stage::isolate(&mut self.dedup, &mut out.articles, "deduplicate", cx).await;
        self.count_late(self.dedup.decider.late() - late);
        let Some(refused) = decided else {
            return Ok(None);
        };
        for (index, error) in refused.into_iter().rev() {
            let article = out.articles.remove(index);
            let origin = out.origins.remove(index);
            tracing::warn!(key = %article.key(), %error, "PostgreSQL refused an item's dedup state: dead-lettered");
            out.letters.push(letter_for(
                article,
                origin,
                Reason::RejectedByDatabase,
                format!("PostgreSQL refused the item's dedup state: {error}"),
            ));
        }
        for ((verdict, provider), items) in tally(
            out.articles
                .iter()
                .map(|a| (a.verdict, a.provider.as_str())),
        ) {
            metrics::verdict(verdict, provider, items);
        }
        Ok(Some(out))
    }

    async fn write(
        &mut self,
        out: Outputs,
        _offsets: &[NextOffset],
        cx: &Context,
    ) -> anyhow::Result<Option<Written>> {
        use anyhow::Context as _;
        let records = out
            .articles
            .iter()
            .map(|article| {
                Ok(Outgoing {
                    topic: self.articles_topic.clone(),
                    key: article.key(),
                    payload: serde_json::to_vec(article)?,
                    headers: self
                        .record_headers
                        .then(|| ("article/1", article.source.clone())),
                })
            })
            .collect::<serde_json::Result<Vec<_>>>()
            .context("failed to encode an article")?;
        let Some(refused) = produce::send_all(&self.producer, &records, "produce", cx).await else {
            return Ok(None);
        };
        let written = out.articles.len() - refused.len();
        let mut letters = out.letters;
        let mut articles: Vec<Option<Article>> = out.articles.into_iter().map(Some).collect();
        for (index, error) in refused {
            let Some(article) = articles[index].take() else {
                continue;
            };
            tracing::warn!(key = %article.key(), %error, "the broker refused an article: dead-lettered");
            letters.push(letter_for(
                article,
                out.origins[index].clone(),
                Reason::RejectedByBroker,
                format!("the broker refused the article: {error}"),
            ));
        }
        for letter in &letters {
            metrics::dead_letter(&letter.reason);
        }
        let dead_lettered = letters.len();
        let sent = produce::send_dead_letters(
            &self.producer,
            &self.dead_letter_topic,
            letters,
            self.record_headers,
            cx,
        )
        .await?;
        Ok(sent.map(|_| Written {
            written,
            dead_lettered,
        }))
    }
}

/// The dedup decision as a batch operation: its PostgreSQL errors are
/// classified by SQLSTATE, so that an item the database refuses is isolated.
struct Dedup {
    decider: Deduplicator<PgLedger>,
    claim_size: ClaimSize,
}

impl BatchOp<Article> for Dedup {
    type Error = LedgerError;

    fn classify(&self, error: &LedgerError) -> ErrorClass {
        wirestream_store::error_class_of(error)
    }

    async fn apply(&mut self, items: &mut [Article]) -> Result<(), LedgerError> {
        let (waited, races) = (
            self.decider.ledger().waited(),
            self.decider.ledger().races(),
        );
        // The batch is decided in claims whose size follows the races they
        // lose (`ClaimSize`). The decisions are those of one claim: each
        // sees the ones before.
        let mut decided = Ok(());
        let mut rest = items;
        while !rest.is_empty() {
            let (claim, tail) = rest.split_at_mut(self.claim_size.get().min(rest.len()));
            let before = self.decider.ledger().races();
            decided = self.decider.decide(claim).await;
            self.claim_size
                .after(self.decider.ledger().races() > before);
            if decided.is_err() {
                break;
            }
            rest = tail;
        }
        let ledger = self.decider.ledger();
        metrics::claim(
            ledger.waited() - waited,
            ledger.races() - races,
            self.claim_size.get(),
        );
        decided
    }
}

/// A dead letter for an article the worker could not pass on.
fn letter_for(article: Article, origin: String, reason: Reason, detail: String) -> DeadLetter {
    let key = article.key();
    let mut letter = DeadLetter::new(
        StageName::Worker,
        reason,
        detail,
        article.original.storable(),
    );
    letter.key = Some(key);
    letter.source = article.source;
    letter.received_at = Some(article.received_at);
    letter.origin = Some(origin);
    letter
}

fn count_consumed(out: &Outputs) {
    // The source comes from the payload, not from a header: headers are
    // optional (`kafka.record_headers`), and the payload always has it.
    // A raw record that is not a raw item has no source to tell.
    for (source, items) in tally(out.articles.iter().map(|a| a.source.as_str())) {
        metrics::consumed(source, items);
        metrics::normalised(source, items);
    }
    let sources = out.letters.iter().map(|l| match l.source.as_str() {
        "" => "unknown",
        source => source,
    });
    for (source, items) in tally(sources) {
        metrics::consumed(source, items);
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
