//! The broker-free part of the worker: raw message bytes to articles and dead letters.

use chrono::{DateTime, Utc};
use wirestream_model::{Article, DeadLetter, Original, RawItem};

/// What became of one raw message.
#[derive(Debug)]
pub enum Processed {
    Article(Box<Article>),
    DeadLetter(Box<DeadLetter>),
}

/// Decodes and normalises one raw-topic payload. Never fails: what cannot be
/// made into an article becomes a dead letter with the reason and the bytes.
pub fn process(payload: Option<&[u8]>, origin: &str, now: DateTime<Utc>) -> Processed {
    let bytes = payload.unwrap_or_default();
    let raw: RawItem = match serde_json::from_slice(bytes) {
        Ok(raw) => raw,
        Err(error) => {
            let mut letter = DeadLetter::new(
                "worker",
                "invalid_raw_item",
                format!("the raw-topic record is not a raw item: {error}"),
                Original::from_bytes(bytes),
            );
            letter.origin = Some(origin.to_owned());
            return Processed::DeadLetter(Box::new(letter));
        }
    };
    match wirestream_normalize::normalize(&raw, now) {
        Ok(article) => Processed::Article(Box::new(article)),
        Err(error) => {
            let mut letter =
                DeadLetter::new("worker", error.reason(), error.to_string(), raw.original);
            letter.key = Some(wirestream_model::item_key(&raw.provider, &raw.uri));
            letter.source = raw.source;
            letter.received_at = Some(raw.received_at);
            letter.origin = Some(origin.to_owned());
            Processed::DeadLetter(Box::new(letter))
        }
    }
}
