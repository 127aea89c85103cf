//! Articles made up for sink tests, written straight to the articles topic.

use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use futures::future::join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use wirestream_model::{Article, Format, Original, PubStatus, Verdict, ARTICLE_SCHEMA};

/// A normalised article as the worker would write it. The timestamps are
/// fixed, so that two runs make identical rows.
pub fn article(n: usize, version: u64, pubstatus: PubStatus) -> Article {
    let at = Utc
        .with_ymd_and_hms(2024, 3, 1, 10, 0, 0)
        .single()
        .expect("a valid date")
        + chrono::Duration::seconds((n * 10 + version as usize) as i64);
    let body = format!(
        "Story {n}, version {version}: the body of a made-up wire story with some words in it."
    );
    Article {
        schema: ARTICLE_SCHEMA,
        provider: "test".into(),
        uri: format!("urn:test:{n}"),
        version,
        pubstatus,
        verdict: match (pubstatus, version) {
            (PubStatus::Canceled, _) => Verdict::Kill,
            (_, 1) => Verdict::New,
            _ => Verdict::Version,
        },
        duplicate_of: None,
        similarity: None,
        headline: format!("STORY {n} V{version}"),
        word_count: body.split_whitespace().count() as u32,
        content_hash: format!("{n}-{version}"),
        body,
        byline: None,
        dateline: Some("LONDON, March 1".into()),
        language: Some("en".into()),
        language_confidence: Some(1.0),
        language_source: None,
        urgency: Some(3),
        subjects: vec![],
        places: vec![],
        tickers: vec![],
        tags: vec![],
        copyright: None,
        versioncreated: Some(at),
        firstcreated: None,
        embargoed: None,
        warnings: vec![],
        format: Format::Ninjs,
        source: "test".into(),
        received_at: at,
        processed_at: at,
        original: Original::Utf8(format!("{{\"uri\":\"urn:test:{n}\"}}")),
    }
}

/// `stories` stories; every tenth has a second version and every fiftieth is
/// then killed, in the order a provider would send them.
pub fn story_set(stories: usize) -> Vec<Article> {
    let mut out = Vec::with_capacity(stories + stories / 10 + stories / 50);
    for n in 0..stories {
        out.push(article(n, 1, PubStatus::Usable));
        if n % 10 == 0 {
            out.push(article(n, 2, PubStatus::Usable));
        }
        if n % 50 == 0 {
            out.push(article(n, 3, PubStatus::Canceled));
        }
    }
    out
}

/// Writes articles to a topic, keyed as the worker keys them, and waits for the acks.
pub async fn produce(brokers: &str, topic: &str, articles: &[Article]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .expect("a Kafka producer");
    for chunk in articles.chunks(1000) {
        let payloads: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|a| (a.key(), serde_json::to_vec(a).expect("an article encodes")))
            .collect();
        let deliveries = payloads.iter().map(|(key, payload)| {
            producer.send(
                FutureRecord::to(topic).key(key).payload(payload),
                Duration::from_secs(30),
            )
        });
        for result in join_all(deliveries).await {
            result.expect("the broker acknowledges");
        }
    }
}
