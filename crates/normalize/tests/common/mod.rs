//! Test helpers: items read with the production parsers of
//! wirestream-formats (so the tests see what the pipeline sees) and paths to
//! the shared corpora.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use wirestream_formats::{parse_document, parse_ndjson, Context, Hint};
use wirestream_model::{Body, BodyKind, Format, Original, RawItem};

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

/// The parsing context of the tests: a fixed arrival time, and the provider
/// as the trusted transport would give it.
fn context(provider: &str) -> Context {
    let mut ctx = Context::new("test");
    ctx.received_at = received_at();
    ctx.default_provider = Some(provider.to_owned());
    ctx
}

/// Parses a ninjs document with the production parser, as ingest does.
pub fn raw_from_ninjs(provider: &str, line: &str) -> RawItem {
    let items = parse_document(line.as_bytes(), Hint::Json, &context(provider))
        .unwrap_or_else(|error| panic!("a ninjs document: {error}"));
    items
        .into_iter()
        .next()
        .expect("one item in a ninjs document")
}

/// The Reuters-21578 corpus, one raw item per line, through the production
/// NDJSON parser.
pub fn reuters() -> Vec<RawItem> {
    let text = shared("corpus/reuters21578.ndjson");
    parse_ndjson(text.as_bytes(), &context("reuters"))
        .into_iter()
        .map(|item| item.unwrap_or_else(|error| panic!("a Reuters line: {error}")))
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
