//! Normalisation: from a [`RawItem`] to an [`Article`].
//!
//! The stored text keeps what the reader sees (typographic quotes, accents,
//! paragraphs). A separate *matching form* ([`matching_form`]) folds case,
//! quotes and whitespace; deduplication hashes and compares that form only.
//!
//! The returned article has the verdict `new` (or `kill` for a cancelled
//! item); deduplication decides the final verdict.

mod body;
mod dates;
mod furniture;
mod header;
mod headline;
mod html;
mod language;
mod signoff;
mod stop_words;
mod text;

use chrono::{DateTime, Utc};
use unicode_normalization::UnicodeNormalization;
use wirestream_model::{Article, BodyKind, PubStatus, RawItem, Verdict, ARTICLE_SCHEMA};

/// Why an item cannot become an article. Each kind maps to a stable
/// dead-letter reason ([`NormalizeError::reason`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NormalizeError {
    #[error("the item has neither a headline nor a body")]
    Empty,
    #[error("the item has no id")]
    MissingId,
}

impl NormalizeError {
    /// The machine-readable reason written to the dead-letter topic.
    pub fn reason(&self) -> &'static str {
        match self {
            NormalizeError::Empty => "empty_article",
            NormalizeError::MissingId => "missing_id",
        }
    }
}

/// Normalises one raw item.
///
/// The rules, in the order they run:
///
/// 1. the item needs an id (`uri`), else [`NormalizeError::MissingId`];
/// 2. headline: entities decoded, control characters dropped, NFC,
///    whitespace collapsed, service prefixes (`REFILE-`, `UPDATE 1-`,
///    `(RPT)` …) removed, ticker markers (`<BAC>`) lifted into `tickers`;
/// 3. byline and dateline fields, when sent, cleaned the same way;
/// 4. body (or, when there is none, the description): HTML to paragraphs or
///    hard-wrapped text joined into paragraphs, entities, controls, NFC,
///    whitespace; then a repeated headline, a leading byline and the
///    dateline are taken off its head, and sign-offs and feed tags off its
///    end (feed tags go to `tags`);
/// 5. an item whose headline and body are both empty is
///    [`NormalizeError::Empty`];
/// 6. language: declared, or detected on headline and body;
/// 7. timestamps parsed, an unparseable one becoming a warning;
/// 8. word count, content hash, verdict (`kill` for a cancelled item, else
///    `new`) and the metadata copied from the raw item.
pub fn normalize(raw: &RawItem, processed_at: DateTime<Utc>) -> Result<Article, NormalizeError> {
    if raw.uri.trim().is_empty() {
        return Err(NormalizeError::MissingId);
    }
    // The parser's warnings (a wrong charset declaration, …) come first.
    let mut warnings = raw.warnings.clone();
    let mut tickers = Vec::new();

    let headline = headline::clean(&raw.headline, &mut tickers);
    // A user id (`engler.angelika`) is not a byline, and a timestamp
    // (`20190121T103600+0000`) not a dateline: such values are dropped, so
    // that the body's own byline or dateline can stand.
    let declared_byline = non_empty(raw.byline.as_deref().map(text::clean_line))
        .filter(|byline| !header::is_user_id(byline));
    let declared_dateline = non_empty(raw.dateline.as_deref().map(text::clean_line))
        .and_then(|dateline| header::dateline_without_timestamps(&dateline));

    let (kind, source) = match (&raw.body, raw.description.as_deref()) {
        (Some(body), _) if !body.value.trim().is_empty() => (body.kind, body.value.as_str()),
        // Many RSS items carry only a description, often HTML.
        (_, Some(description)) => (guess_kind(description), description),
        (Some(body), None) => (body.kind, body.value.as_str()),
        (None, None) => (BodyKind::Text, ""),
    };
    let body = body::clean(
        kind,
        source,
        &body::Lines {
            headline: &headline,
            subheadlines: &raw.subheadlines,
        },
        declared_byline.as_deref(),
        declared_dateline.as_deref(),
    );

    // A kill often carries no text at all: it still has to reach the store.
    if headline.is_empty() && body.text.is_empty() && raw.pubstatus != PubStatus::Canceled {
        return Err(NormalizeError::Empty);
    }

    let language = language::resolve(
        raw.language.as_deref(),
        &headline,
        &body.text,
        &mut warnings,
    );
    let versioncreated = dates::parse_field(
        "versioncreated",
        raw.versioncreated.as_deref(),
        &mut warnings,
    );
    let firstcreated =
        dates::parse_field("firstcreated", raw.firstcreated.as_deref(), &mut warnings);
    let embargoed = dates::parse_field("embargoed", raw.embargoed.as_deref(), &mut warnings);

    let verdict = match raw.pubstatus {
        PubStatus::Canceled => Verdict::Kill,
        PubStatus::Usable | PubStatus::Withheld => Verdict::New,
    };

    Ok(Article {
        schema: ARTICLE_SCHEMA,
        provider: raw.provider.clone(),
        uri: raw.uri.clone(),
        version: raw.version.unwrap_or(1),
        pubstatus: raw.pubstatus,
        verdict,
        duplicate_of: None,
        similarity: None,
        content_hash: content_hash(&headline, &body.text),
        word_count: text::word_count(&body.text),
        headline,
        byline: declared_byline.or(body.byline).or(body.signed),
        dateline: declared_dateline.or(body.dateline),
        body: body.text,
        language: language.code,
        language_confidence: language.confidence,
        language_source: language.source,
        urgency: raw.urgency,
        subjects: raw.subjects.clone(),
        places: raw.places.clone(),
        tickers,
        tags: body.tags,
        copyright: non_empty(raw.copyright.as_deref().map(text::clean_line)),
        versioncreated,
        firstcreated,
        embargoed,
        warnings,
        format: raw.format,
        source: raw.source.clone(),
        received_at: raw.received_at,
        processed_at,
        original: raw.original.clone(),
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

/// A description is HTML when it holds a tag that HTML descriptions use.
fn guess_kind(description: &str) -> BodyKind {
    const TAGS: &[&str] = &["<p", "<P", "<br", "<BR", "<div", "<a ", "</"];
    if TAGS.iter().any(|tag| description.contains(tag)) {
        BodyKind::Html
    } else {
        BodyKind::Text
    }
}

/// The form of a text used for matching: NFKC, lower case, typographic quotes
/// and dashes folded to ASCII, whitespace collapsed to single spaces.
pub fn matching_form(text: &str) -> String {
    // NFKC first: it maps compatibility forms (full-width letters, ligatures,
    // no-break spaces) to the plain characters the folding below expects.
    // ASCII is its own NFKC, and most wire copy is ASCII: skip the work.
    if text.is_ascii() {
        return fold_ascii(text);
    }
    let mut out = String::with_capacity(text.len());
    fold(&mut out, text.nfkc());
    out
}

/// Whether two texts have the same [`matching_form`]. When both are ASCII
/// the folded bytes are compared as they are produced, building neither form:
/// the body's first paragraph is compared with the headline for every
/// article, and it usually differs within a few bytes.
pub(crate) fn same_matching_form(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return folded_ascii(a).eq(folded_ascii(b));
    }
    matching_form(a) == matching_form(b)
}

/// The bytes of [`fold_ascii`], one at a time.
fn folded_ascii(text: &str) -> impl Iterator<Item = u8> + '_ {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut bytes = text.bytes().peekable();
    let mut started = false;
    std::iter::from_fn(move || {
        let mut spaced = false;
        while bytes.next_if(is_space).is_some() {
            spaced = true;
        }
        // Whitespace at the end gives nothing; inside, one space.
        bytes.peek()?;
        if spaced && started {
            return Some(b' ');
        }
        started = true;
        bytes.next().map(|b| b.to_ascii_lowercase())
    })
}

/// [`fold`] for ASCII text, byte by byte: the same result, several times
/// faster than pushing `char`s (matching forms are built for every article).
fn fold_ascii(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut pending_space = false;
    for &b in text.as_bytes() {
        // char::is_whitespace on ASCII: space, \t, \n, \x0b, \x0c, \r.
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            pending_space = !bytes.is_empty();
            continue;
        }
        if pending_space {
            bytes.push(b' ');
            pending_space = false;
        }
        bytes.push(b.to_ascii_lowercase());
    }
    // Only ASCII bytes were pushed: always valid UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Folds quotes, dashes and case and collapses whitespace, appending to `out`.
fn fold(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut pending_space = false;
    for c in chars {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2039}'
            | '\u{203A}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c if c.is_uppercase() => out.extend(c.to_lowercase()),
            c => out.push(c),
        }
    }
}

/// Hex hash of the matching form of headline and body: equal for exact copies.
///
/// Only the body is hashed when there is one: agencies re-send the same copy
/// under a new headline (a `REFILE`, a corrected typo), and that is still the
/// same story. A headline-only item (a flash) is hashed on its headline, with
/// a prefix so that it can never collide with a body.
pub fn content_hash(headline: &str, body: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    let body = matching_form(body);
    if body.is_empty() {
        hasher.update(b"h:");
        hasher.update(matching_form(headline).as_bytes());
    } else {
        hasher.update(body.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fast_path_folds_like_the_general_one() {
        let text = "  Shr 34 cts vs 1.19 dlrs\r\n\n    Net\t3,821,000\x0b vs <CH> \"QUOTED\"  ";
        let mut general = String::new();
        fold(&mut general, text.chars());
        assert_eq!(matching_form(text), general);
        assert_eq!(matching_form(""), "");
        for (a, b) in [
            (
                text,
                "shr 34 cts vs 1.19 dlrs net 3,821,000 vs <ch> \"quoted\"",
            ),
            (
                text,
                "shr 34 cts vs 1.19 dlrs net 3,821,000 vs <ch> \"quoted",
            ),
            ("  BAHIA  COCOA\n", "bahia cocoa"),
            ("BAHIA COCOA", "BAHIACOCOA"),
            ("", " \t"),
            ("Café", "CAFÉ"),
        ] {
            let same = matching_form(a) == matching_form(b);
            assert_eq!(same_matching_form(a, b), same, "{a:?} {b:?}");
            assert_eq!(
                folded_ascii(a).collect::<Vec<u8>>(),
                fold_ascii(a).as_bytes()
            );
        }
    }
}
