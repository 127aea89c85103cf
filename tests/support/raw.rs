//! Records written straight to a topic, around ingest: what another
//! producer (a script, a replay tool, a bug) could put on the raw topic.

use std::time::Duration;

use futures::future::join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

/// Writes `(key, payload)` records to `topic` and waits for the acks.
pub async fn produce(brokers: &str, topic: &str, records: &[(String, Vec<u8>)]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()
        .expect("a Kafka producer");
    let deliveries = records.iter().map(|(key, payload)| {
        producer.send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(30),
        )
    });
    for result in join_all(deliveries).await {
        result.expect("the broker acknowledges");
    }
}

/// A raw item as ingest would write it, with `uri` and the fields given in
/// `fields` (JSON values) set as they are: no check is applied.
pub fn raw_item(uri: &str, fields: serde_json::Value) -> Vec<u8> {
    let mut item = serde_json::json!({
        "schema": 1,
        "provider": "hostile",
        "uri": uri,
        "format": "ninjs",
        "headline": format!("Headline of {}", uri.escape_default()),
        "body": {"kind": "text", "value": "A body with enough words to be an article."},
        "source": "test",
        "received_at": "2026-12-01T10:00:00Z",
        "original": {"encoding": "utf8", "data": "{}"},
    });
    if let (Some(item), Some(fields)) = (item.as_object_mut(), fields.as_object()) {
        for (key, value) in fields {
            item.insert(key.clone(), value.clone());
        }
    }
    serde_json::to_vec(&item).expect("JSON encodes")
}
