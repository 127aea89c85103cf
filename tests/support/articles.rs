//! Articles made up for sink tests, written straight to the articles topic.

use std::time::Duration;

use futures::future::join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use wirestream_model::{fixtures, Article, Original, PubStatus, Verdict};

/// A normalised article as the worker would write it. The timestamps are
/// fixed, so that two runs make identical rows.
pub fn article(n: usize, version: u64, pubstatus: PubStatus) -> Article {
    let body = format!(
        "Story {n}, version {version}: the body of a made-up wire story with some words in it."
    );
    let mut a = fixtures::article(
        &format!("urn:test:{n}"),
        &format!("STORY {n} V{version}"),
        &body,
    );
    let at = a.received_at + chrono::Duration::seconds((n * 10 + version as usize) as i64);
    a.provider = "test".into();
    a.version = version;
    a.pubstatus = pubstatus;
    a.verdict = match (pubstatus, version) {
        (PubStatus::Canceled, _) => Verdict::Kill,
        (_, 1) => Verdict::New,
        _ => Verdict::Version,
    };
    a.dateline = Some("LONDON, March 1".into());
    a.urgency = Some(3);
    a.content_hash = format!("{n}-{version}");
    (a.versioncreated, a.received_at, a.processed_at) = (Some(at), at, at);
    a.original = Original::Utf8(format!("{{\"uri\":\"urn:test:{n}\"}}"));
    a
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
