//! A copy of the articles topic that Kafka Connect's JDBC sink can read,
//! for the side-by-side of scripts/bench-connect.sh.
//!
//! Our articles are JSON without a schema. Debezium's JDBC sink needs
//! records with one (it maps fields to columns by their Connect types), and
//! Kafka ships no transform that would infer it. So each message is
//! rewritten, before the timed part, into the envelope of Connect's
//! `JsonConverter` with `schemas.enable=true`: `{"schema": …, "payload": …}`,
//! with the `articles` columns the sink fills and the values it stores. The
//! schema travels in every message (about 2 KB): Connect parses it each
//! time, which is part of its cost with this converter.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use serde::Serialize;
use serde_json::{json, Value};
use wirestream_model::{Article, LanguageSource, Original};
use wirestream_runtime::config::KafkaConfig;

use crate::broker::Record;

/// (column, Connect type, optional, Debezium semantic type): the JDBC sink
/// binds `io.debezium.data.Json` as `jsonb` and `io.debezium.time.ZonedTimestamp`
/// (ISO-8601 text) as `timestamptz`.
const FIELDS: &[(&str, &str, bool, Option<&str>)] = &[
    ("provider", "string", false, None),
    ("uri", "string", false, None),
    ("version", "int64", false, None),
    ("pubstatus", "string", false, None),
    ("verdict", "string", false, None),
    ("duplicate_of", "string", true, None),
    ("similarity", "float", true, None),
    ("headline", "string", false, None),
    ("body", "string", false, None),
    ("byline", "string", true, None),
    ("dateline", "string", true, None),
    ("language", "string", true, None),
    ("language_confidence", "float", true, None),
    ("language_source", "string", true, None),
    ("word_count", "int32", false, None),
    ("urgency", "int16", true, None),
    ("subjects", "string", false, Some(JSON)),
    ("places", "string", false, Some(JSON)),
    ("tickers", "string", false, Some(JSON)),
    ("tags", "string", false, Some(JSON)),
    ("copyright", "string", true, None),
    ("versioncreated", "string", true, Some(TIME)),
    ("firstcreated", "string", true, Some(TIME)),
    ("embargoed", "string", true, Some(TIME)),
    ("warnings", "string", false, Some(JSON)),
    ("content_hash", "string", false, None),
    ("format", "string", false, None),
    ("source", "string", false, None),
    ("received_at", "string", false, Some(TIME)),
    ("processed_at", "string", false, Some(TIME)),
    ("original", "string", false, None),
    ("original_encoding", "string", false, None),
];
const JSON: &str = "io.debezium.data.Json";
const TIME: &str = "io.debezium.time.ZonedTimestamp";

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let fields: Vec<Value> = FIELDS
            .iter()
            .map(|(field, kind, optional, name)| {
                let mut f = json!({ "field": field, "type": kind, "optional": optional });
                if let Some(name) = name {
                    f["name"] = json!(name);
                }
                f
            })
            .collect();
        json!({ "type": "struct", "name": "wirestream.article", "optional": false, "fields": fields })
    })
}

#[derive(Serialize)]
struct Envelope<'a> {
    schema: &'a Value,
    payload: Value,
}

/// The envelope for one article of the articles topic.
pub fn envelope(payload: &[u8]) -> anyhow::Result<Vec<u8>> {
    let a: Article = serde_json::from_slice(payload).context("not an article")?;
    // Microseconds, cut as sqlx cuts them when our sink binds a time, so
    // that both tables hold the same instants.
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    };
    let (original, encoding) = match &a.original {
        Original::Utf8(t) => (t.as_str(), "utf8"),
        Original::Base64(d) => (d.as_str(), "base64"),
    };
    let payload = json!({
        "provider": a.provider,
        "uri": a.uri,
        "version": a.version,
        "pubstatus": a.pubstatus.as_str(),
        "verdict": a.verdict.as_str(),
        "duplicate_of": a.duplicate_of,
        "similarity": a.similarity,
        "headline": a.headline,
        "body": a.body,
        "byline": a.byline,
        "dateline": a.dateline,
        "language": a.language,
        "language_confidence": a.language_confidence,
        "language_source": a.language_source.map(|s| match s {
            LanguageSource::Declared => "declared",
            LanguageSource::Detected => "detected",
        }),
        "word_count": a.word_count,
        "urgency": a.urgency,
        "subjects": text(&a.subjects),
        "places": text(&a.places),
        "tickers": text(&a.tickers),
        "tags": text(&a.tags),
        "copyright": a.copyright,
        "versioncreated": time(a.versioncreated),
        "firstcreated": time(a.firstcreated),
        "embargoed": time(a.embargoed),
        "warnings": text(&a.warnings),
        "content_hash": a.content_hash,
        "format": a.format.as_str(),
        "source": a.source,
        "received_at": time(Some(a.received_at)),
        "processed_at": time(Some(a.processed_at)),
        "original": original,
        "original_encoding": encoding,
    });
    Ok(serde_json::to_vec(&Envelope {
        schema: schema(),
        payload,
    })?)
}

/// A JSON column's text, as the sink stores it.
fn text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Rewrites every record's payload into the envelope; returns the records
/// and how many were left out (not articles).
pub fn rewrite(records: &[Record]) -> (Vec<Record>, usize) {
    let mut skipped = 0;
    let out = records
        .iter()
        .filter_map(|r| match r.payload().map(envelope) {
            Some(Ok(payload)) => Some(r.with_payload(payload)),
            _ => {
                skipped += 1;
                None
            }
        })
        .collect();
    (out, skipped)
}

/// Copies every message of `from` (or the first `expected`) into a new topic
/// `to` (as many partitions, the envelope on every payload) and prints how
/// many.
pub async fn copy_topic(
    config: &KafkaConfig,
    from: &str,
    to: &str,
    expected: Option<usize>,
) -> anyhow::Result<()> {
    let (partitions, messages) = tokio::task::block_in_place(|| extent(config, from))?;
    let expected = expected.unwrap_or(messages);
    let (records, _) =
        tokio::task::block_in_place(|| crate::broker::consume(config, from, expected))?;
    create_topic(config, to, partitions).await?;
    let (records, skipped) = rewrite(&records);
    crate::broker::produce(config, to, &records, 10_000).await?;
    println!("connect_topic_records={}", records.len());
    println!("connect_topic_skipped={skipped}");
    Ok(())
}

/// The topic's partitions and the messages on them (from offset 0: the
/// bench's topics are new and nothing has expired).
fn extent(config: &KafkaConfig, topic: &str) -> anyhow::Result<(i32, usize)> {
    let consumer: BaseConsumer =
        wirestream_runtime::kafka::consumer_config(config, "bench-metadata")
            .create()
            .context("failed to create a Kafka client")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .context("failed to read the topic's metadata")?;
    let ids: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|p| p.id())
        .collect();
    anyhow::ensure!(!ids.is_empty(), "topic {topic} has no partitions");
    let mut messages = 0;
    for &id in &ids {
        let (low, high) = consumer
            .fetch_watermarks(topic, id, Duration::from_secs(10))
            .context("failed to read the topic's offsets")?;
        messages += (high - low).max(0) as usize;
    }
    Ok((ids.len() as i32, messages))
}

async fn create_topic(config: &KafkaConfig, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        wirestream_runtime::kafka::producer_config(config)
            .create()
            .context("failed to create the Kafka admin client")?;
    let max_bytes = config.max_message_bytes.to_string();
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1))
        .set("max.message.bytes", &max_bytes);
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics([&new], &options).await? {
        result.map_err(|(name, code)| anyhow::anyhow!("failed to create topic {name}: {code}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_every_payload_field() {
        let article = wirestream_model::fixtures::article("r-1", "Cocoa", "Showers continued.");
        let bytes = envelope(&serde_json::to_vec(&article).unwrap()).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let payload = value["payload"].as_object().unwrap();
        let fields: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
        assert_eq!(payload.len(), fields.len());
        for field in fields {
            assert!(payload.contains_key(field), "{field}");
        }
        assert_eq!(value["payload"]["uri"], json!(article.uri));
    }
}
