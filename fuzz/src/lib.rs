//! What the fuzz targets share. Every target only checks that nothing
//! panics, hangs or runs out of memory: a clean error is a correct answer
//! to hostile input.

use chrono::{DateTime, Utc};
use wirestream_formats::{parse_document, sniff, Context, Hint};
use wirestream_model::{Format, RawItem};

/// A context with the production limits and a fixed clock, so that a crash
/// replays exactly.
pub fn context() -> Context {
    let mut ctx = Context::new("fuzz");
    ctx.received_at = fixed_time();
    ctx
}

pub fn fixed_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}

/// Parses an XML document only if it sniffs as `format`, so that each XML
/// target spends its time in its own parser rather than in the others'.
pub fn parse_xml_as(data: &[u8], format: Format) -> Option<Vec<RawItem>> {
    let hint = Hint::Xml { charset: None };
    if sniff(data, hint).ok()? != format {
        return None;
    }
    parse_document(data, hint, &context()).ok()
}

/// Normalises every item; the result (an article or a clean error) is
/// dropped, only a panic counts.
pub fn normalize_all(items: &[RawItem]) {
    for item in items {
        let _ = wirestream_normalize::normalize(item, fixed_time());
    }
}
