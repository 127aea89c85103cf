//! The broker-free part of the worker: raw message bytes to articles and dead letters.

use chrono::{DateTime, Utc};
use wirestream_model::{validate, Article, DeadLetter, Original, RawItem, Reason, Stage};
use wirestream_normalize::NormalizeError;

/// What became of one raw message.
#[derive(Debug)]
pub enum Processed {
    Article(Box<Article>),
    DeadLetter(Box<DeadLetter>),
}

/// Decodes, checks and normalises one raw-topic payload. Never fails: what
/// cannot be made into an article becomes a dead letter with the reason and
/// the bytes. The check is ingest's (`wirestream_model::validate`), for
/// records that reached the raw topic by another route.
pub fn process(payload: Option<&[u8]>, origin: &str, now: DateTime<Utc>) -> Processed {
    let bytes = payload.unwrap_or_default();
    let raw: RawItem = match serde_json::from_slice(bytes) {
        Ok(raw) => raw,
        Err(error) => {
            let mut letter = DeadLetter::new(
                Stage::Worker,
                Reason::InvalidRawItem,
                format!("the raw-topic record is not a raw item: {error}"),
                Original::from_bytes(bytes),
            );
            letter.origin = Some(origin.to_owned());
            return Processed::DeadLetter(Box::new(letter));
        }
    };
    let (reason, detail) = match validate::check(&raw) {
        Err(invalid) => (Reason::InvalidField, invalid.to_string()),
        Ok(()) => match wirestream_normalize::normalize(&raw, now) {
            Ok(article) => return Processed::Article(Box::new(article)),
            Err(error @ NormalizeError::Empty) => (Reason::EmptyArticle, error.to_string()),
            Err(error @ NormalizeError::MissingId) => (Reason::MissingId, error.to_string()),
        },
    };
    let key = wirestream_model::item_key(&raw.provider, &raw.uri);
    // The letter itself must be storable: no NUL in its text columns.
    let mut letter = DeadLetter::new(Stage::Worker, reason, detail, raw.original.storable());
    letter.key = Some(key.replace('\0', ""));
    letter.source = raw.source.replace('\0', "");
    letter.received_at = Some(raw.received_at);
    letter.origin = Some(origin.to_owned());
    Processed::DeadLetter(Box::new(letter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(uri: &str, version: Option<u64>) -> Vec<u8> {
        let mut item = RawItem::new(
            wirestream_model::Format::Ninjs,
            Original::from_bytes(b"{}"),
            Utc::now(),
        );
        item.provider = "reuters".into();
        item.uri = uri.into();
        item.version = version;
        item.headline = "Markets rise".into();
        item.body = Some(wirestream_model::Body {
            kind: wirestream_model::BodyKind::Text,
            value: "Shares rose on Monday.".into(),
        });
        serde_json::to_vec(&item).unwrap()
    }

    fn reason(processed: Processed) -> String {
        match processed {
            Processed::DeadLetter(letter) => letter.reason,
            Processed::Article(article) => format!("article {}", article.uri),
        }
    }

    #[test]
    fn items_the_store_cannot_take_become_dead_letters() {
        let now = Utc::now();
        let ok = process(Some(&raw("urn:x:1", Some(2))), "raw/0/1", now);
        assert_eq!(reason(ok), "article urn:x:1");
        for payload in [
            raw("urn:x:1\u{0}", None),
            raw(&"u".repeat(2000), None),
            raw("urn:x:2", Some(u64::MAX)),
        ] {
            assert_eq!(
                reason(process(Some(&payload), "raw/0/2", now)),
                "invalid_field"
            );
        }
        assert_eq!(
            reason(process(Some(b"\xff{"), "raw/0/3", now)),
            "invalid_raw_item"
        );
        assert_eq!(reason(process(None, "raw/0/4", now)), "invalid_raw_item");
    }
}
