//! Articles as CSV rows for `COPY … (FORMAT csv)`, in the column order of [`COLUMNS`].

use std::fmt::Write as _;

use wirestream_model::{Article, LanguageSource, Original};

/// The `articles` columns an article fills (the rest have defaults or are generated).
pub const COLUMNS: &str = "provider, uri, version, pubstatus, verdict, duplicate_of, similarity, \
    headline, body, byline, dateline, language, language_confidence, language_source, word_count, \
    urgency, subjects, places, tickers, tags, copyright, versioncreated, firstcreated, embargoed, \
    warnings, content_hash, format, source, received_at, processed_at, original, original_encoding";

pub fn text(out: &mut String, value: &str) {
    // Quoted, so that an empty string is not NULL; quotes doubled.
    out.push('"');
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

fn opt(out: &mut String, value: Option<&str>) {
    if let Some(value) = value {
        text(out, value);
    }
}

fn json<T: serde::Serialize>(out: &mut String, value: &T) {
    text(
        out,
        &serde_json::to_string(value).unwrap_or_else(|_| "null".into()),
    );
}

pub fn time(out: &mut String, value: Option<chrono::DateTime<chrono::Utc>>) {
    if let Some(value) = value {
        out.push_str(&value.to_rfc3339());
    }
}

pub fn row(out: &mut String, a: &Article) {
    let (original, encoding) = match &a.original {
        Original::Utf8(t) => (t.as_str(), "utf8"),
        Original::Base64(d) => (d.as_str(), "base64"),
    };
    text(out, &a.provider);
    out.push(',');
    text(out, &a.uri);
    let _ = write!(
        out,
        ",{},{},{},",
        a.version,
        a.pubstatus.as_str(),
        a.verdict.as_str()
    );
    opt(out, a.duplicate_of.as_deref());
    out.push(',');
    if let Some(s) = a.similarity {
        let _ = write!(out, "{s}");
    }
    out.push(',');
    text(out, &a.headline);
    out.push(',');
    text(out, &a.body);
    out.push(',');
    opt(out, a.byline.as_deref());
    out.push(',');
    opt(out, a.dateline.as_deref());
    out.push(',');
    opt(out, a.language.as_deref());
    out.push(',');
    if let Some(c) = a.language_confidence {
        let _ = write!(out, "{c}");
    }
    out.push(',');
    opt(
        out,
        a.language_source.map(|s| match s {
            LanguageSource::Declared => "declared",
            LanguageSource::Detected => "detected",
        }),
    );
    let _ = write!(out, ",{},", a.word_count);
    if let Some(u) = a.urgency {
        let _ = write!(out, "{u}");
    }
    out.push(',');
    json(out, &a.subjects);
    out.push(',');
    json(out, &a.places);
    out.push(',');
    json(out, &a.tickers);
    out.push(',');
    json(out, &a.tags);
    out.push(',');
    opt(out, a.copyright.as_deref());
    out.push(',');
    time(out, a.versioncreated);
    out.push(',');
    time(out, a.firstcreated);
    out.push(',');
    time(out, a.embargoed);
    out.push(',');
    json(out, &a.warnings);
    out.push(',');
    text(out, &a.content_hash);
    let _ = write!(out, ",{},", a.format.as_str());
    text(out, &a.source);
    out.push(',');
    time(out, Some(a.received_at));
    out.push(',');
    time(out, Some(a.processed_at));
    out.push(',');
    text(out, original);
    let _ = writeln!(out, ",{encoding}");
}
