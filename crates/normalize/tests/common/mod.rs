//! Test helpers: a minimal ninjs-to-RawItem mapping (the real one lives in
//! the formats crate) and paths to the shared corpora.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use wirestream_model::{Body, BodyKind, Format, Original, PubStatus, RawItem, Subject};

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

pub fn shared(path: &str) -> String {
    let full = format!("{SHARED}/{path}");
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

pub fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5)
        .single()
        .expect("valid date")
}

fn string(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(value) => Some(value.clone()),
        Value::Number(value) => Some(value.to_string()),
        _ => None,
    }
}

fn subjects(item: &Value, key: &str) -> Vec<Subject> {
    item.get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|subject| Subject {
                    code: string(subject, "uri").or_else(|| string(subject, "code")),
                    name: string(subject, "name"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Maps a ninjs document (1.x to 3.0) to a raw item, as ingest would.
pub fn raw_from_ninjs(provider: &str, line: &str) -> RawItem {
    let item: Value = serde_json::from_str(line).expect("valid ninjs json");
    let mut raw = RawItem::new(
        Format::Ninjs,
        Original::Utf8(line.to_owned()),
        received_at(),
    );
    raw.provider = provider.to_owned();
    raw.uri = string(&item, "uri").unwrap_or_default();
    raw.version = string(&item, "version").and_then(|v| v.parse().ok());
    raw.pubstatus = string(&item, "pubstatus")
        .and_then(|status| PubStatus::parse(&status))
        .unwrap_or_default();
    raw.urgency = item
        .get("urgency")
        .and_then(Value::as_u64)
        .and_then(|u| u8::try_from(u).ok());
    raw.versioncreated = string(&item, "versioncreated");
    raw.firstcreated = string(&item, "firstcreated");
    raw.embargoed = string(&item, "embargoed");
    raw.language = string(&item, "language");
    raw.byline = string(&item, "by");
    raw.copyright = string(&item, "copyrightholder");
    raw.headline = item
        .get("headlines")
        .and_then(|h| h.get(0))
        .and_then(|h| string(h, "value"))
        .or_else(|| string(&item, "headline"))
        .unwrap_or_default();
    // The first text or html body, as ingest picks it.
    raw.body = item
        .get("bodies")
        .and_then(Value::as_array)
        .and_then(|bodies| {
            bodies.iter().find_map(|body| {
                let value = string(body, "value")?;
                let kind = match string(body, "contenttype").as_deref() {
                    Some("text/plain") => BodyKind::Text,
                    Some("text/html") | Some("application/xhtml+xml") => BodyKind::Html,
                    _ => return None,
                };
                Some(Body { kind, value })
            })
        });
    raw.subjects = subjects(&item, "subjects");
    raw.places = subjects(&item, "places");
    raw.source = "test".to_owned();
    raw
}

/// The Reuters-21578 corpus, one raw item per line.
pub fn reuters() -> Vec<RawItem> {
    shared("corpus/reuters21578.ndjson")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| raw_from_ninjs("reuters", line))
        .collect()
}

/// The seed article: headline on line 1, the rest is the body.
pub fn seed() -> RawItem {
    let text = shared("corpus/seed-article-fr.txt");
    let (headline, body) = text.split_once('\n').expect("a headline line");
    let mut raw = RawItem::new(Format::Text, Original::Utf8(text.clone()), received_at());
    raw.provider = "ft".to_owned();
    raw.uri = "seed-article-fr".to_owned();
    raw.headline = headline.to_owned();
    raw.body = Some(Body {
        kind: BodyKind::Text,
        value: body.to_owned(),
    });
    raw
}
