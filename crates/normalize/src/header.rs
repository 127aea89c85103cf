//! Agency header lines at the head of a body, and field values that are not
//! what their field says: keyword and send-time lines (dpa puts
//! `Energie Öl Prozess (Gericht) Italien 20.12.2017 14:49` before the
//! text), letter-spaced service markers (`N i e u w bericht, vervangt:`),
//! timestamps sent as datelines, user ids sent as bylines.

use std::sync::LazyLock;

use regex::Regex;

/// A send time as agencies write it: `20.12.2017 14:49`, ISO 8601 basic
/// (`20190121T103600+0000`) or extended (`2019-01-21T10:36:00Z`).
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \b\d{1,2}\.\d{1,2}\.\d{2,4}(?:,?\s+\d{1,2}[:.]\d{2}(?:\s*Uhr)?)?
        | \b\d{8}T\d{4,6}(?:Z|[+-]\d{2}:?\d{2})?
        | \b\d{4}-\d{2}-\d{2}[T\ ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?
        ",
    )
    .expect("valid timestamp regex")
});

/// The most words a keyword line carries before its send time.
const MAX_KEYWORD_WORDS: usize = 15;

/// Whether a paragraph is agency header furniture rather than text: a send
/// time alone, keywords ending in a send time (no sentence punctuation
/// before it), or a letter-spaced marker.
pub(crate) fn is_header_line(paragraph: &str) -> bool {
    let paragraph = paragraph.trim();
    if let Some(found) = TIMESTAMP.find_iter(paragraph).last() {
        let before = paragraph[..found.start()].trim();
        let after = paragraph[found.end()..].trim();
        if after.is_empty()
            && before.split_whitespace().count() <= MAX_KEYWORD_WORDS
            && !before.contains(['.', '!', '?', ',', ';', ':', '"', '«', '„'])
        {
            return true;
        }
    }
    is_letter_spaced_marker(paragraph)
}

/// `N i e u w bericht, vervangt: …`: three or more single letters spaced
/// out at the head of a short paragraph.
fn is_letter_spaced_marker(paragraph: &str) -> bool {
    let words: Vec<&str> = paragraph.split_whitespace().collect();
    let spaced = words
        .iter()
        .take_while(|w| w.chars().count() == 1 && w.chars().all(char::is_alphabetic))
        .count();
    spaced >= 3 && words.len() <= 12
}

/// A dateline without the timestamps in it; `None` when nothing else is
/// left (`20190121T103600+0000` is a time, not a place).
pub(crate) fn dateline_without_timestamps(dateline: &str) -> Option<String> {
    if !TIMESTAMP.is_match(dateline) {
        return Some(dateline.to_owned());
    }
    let rest = TIMESTAMP.replace_all(dateline, "");
    let rest = rest
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '–' | '/' | '(' | ')'))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (rest.chars().any(char::is_alphabetic)).then_some(rest)
}

/// Whether a byline is a user id rather than a person's name
/// (`engler.angelika`, `powell_robin`, `jdoe@agency.example`): one word
/// of lower-case letters joined by dots, underscores or an `@`. Content
/// systems put these where a byline belongs.
pub(crate) fn is_user_id(byline: &str) -> bool {
    let byline = byline.trim();
    !byline.is_empty()
        && !byline.contains(char::is_whitespace)
        && byline.contains(['.', '_', '@'])
        && !byline.chars().any(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines() {
        for line in [
            "Energie Öl Prozess (Gericht) Italien Nigeria Korruption 20.12.2017 14:49",
            "20190121T103600+0000",
            "2019-01-21T10:36:00Z",
            "N i e u w bericht, vervangt: eerdere versie",
        ] {
            assert!(is_header_line(line), "{line}");
        }
        for line in [
            "The meeting on 20.12.2017 14:49 was short.",
            "Prices rose, traders said on 20.12.2017",
            "A B testing is common.",
            "SALVADOR, Feb 26 - Showers continued throughout the week.",
        ] {
            assert!(!is_header_line(line), "{line}");
        }
    }

    #[test]
    fn datelines_and_user_ids() {
        assert_eq!(dateline_without_timestamps("20190121T103600+0000"), None);
        assert_eq!(
            dateline_without_timestamps("OSLO, 20190121T103600+0000").as_deref(),
            Some("OSLO")
        );
        assert_eq!(
            dateline_without_timestamps("PARIS, 5 janv").as_deref(),
            Some("PARIS, 5 janv")
        );
        assert!(is_user_id("engler.angelika"));
        assert!(is_user_id("powell_robin"));
        assert!(!is_user_id("Angelika Engler"));
        assert!(!is_user_id("dpa"));
        assert!(!is_user_id("J. Smith"));
    }
}
