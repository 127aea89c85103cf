#![no_main]
//! Raw item to article with any string in any field, without a parser in
//! between: the input's lines are the headline, byline, dateline, language,
//! versioncreated, description, then the body (HTML when the first byte is
//! odd). The raw topic carries JSON any producer may have written, so the
//! normaliser cannot rely on what the parsers let through.

use libfuzzer_sys::fuzz_target;
use wirestream_model::{Body, BodyKind, Format, Original, RawItem};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.splitn(7, '\n');
    let mut next = || lines.next().map(str::to_owned);
    let mut item = RawItem::new(
        Format::Ninjs,
        Original::from_bytes(data),
        wirestream_fuzz::fixed_time(),
    );
    item.uri = "urn:fuzz:1".to_owned();
    item.provider = "fuzz".to_owned();
    item.headline = next().unwrap_or_default();
    item.byline = next();
    item.dateline = next();
    item.language = next();
    item.versioncreated = next();
    item.description = next();
    item.body = next().map(|value| Body {
        kind: if flags & 1 == 1 {
            BodyKind::Html
        } else {
            BodyKind::Text
        },
        value,
    });
    wirestream_fuzz::normalize_all(&[item]);
});
