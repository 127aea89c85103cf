//! A plain article for tests in every crate (`features = ["fixtures"]`), so
//! that each test states only the fields it is about.

use chrono::{TimeZone as _, Utc};

use crate::{Article, Format, Original, PubStatus, Verdict, ARTICLE_SCHEMA};

/// A usable, new, English Reuters article, version 1, received at a fixed
/// instant, whose content hash is derived from its body.
pub fn article(uri: &str, headline: &str, body: &str) -> Article {
    let at = Utc
        .with_ymd_and_hms(2024, 3, 1, 10, 0, 0)
        .single()
        .expect("a valid date");
    Article {
        schema: ARTICLE_SCHEMA,
        provider: "reuters".into(),
        uri: uri.into(),
        version: 1,
        pubstatus: PubStatus::Usable,
        verdict: Verdict::New,
        duplicate_of: None,
        similarity: None,
        headline: headline.into(),
        body: body.into(),
        byline: None,
        dateline: None,
        language: Some("en".into()),
        language_confidence: Some(1.0),
        language_source: None,
        word_count: body.split_whitespace().count() as u32,
        urgency: None,
        subjects: vec![],
        places: vec![],
        tickers: vec![],
        tags: vec![],
        copyright: None,
        versioncreated: Some(at),
        firstcreated: None,
        embargoed: None,
        warnings: vec![],
        content_hash: format!("hash-of:{body}"),
        format: Format::Ninjs,
        source: "test".into(),
        received_at: at,
        processed_at: at,
        original: Original::Utf8("{}".into()),
    }
}
