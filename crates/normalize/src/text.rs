//! Character-level cleaning shared by every text field: entity decoding,
//! control characters, Unicode NFC and whitespace.
//!
//! Nothing here changes what a reader sees: typographic quotes, accents and
//! no-break spaces are kept. Folding for comparison is [`crate::matching_form`].

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// No-break spaces that French and other typographies put inside « » and
/// before ; : ! ?. They are kept (a run made only of them becomes one), so
/// that the stored text breaks lines where the reader's copy does.
fn is_no_break_space(c: char) -> bool {
    matches!(c, '\u{00A0}' | '\u{2007}' | '\u{202F}')
}

/// Characters that carry nothing visible and only break matching or search:
/// C0/C1 controls (Reuters bodies end in `&#3;` and carry other C0 codes),
/// DEL, the byte-order mark and the zero-width space. Zero-width joiners are
/// kept because emoji and Indic scripts need them.
fn is_invisible(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{FEFF}' | '\u{200B}')
}

/// Decodes HTML entities (named and numeric), then drops invisible
/// characters, turns line ends (`\r\n`, `\r`, a run of `\r` before `\n`
/// as some wire spoolers write, the vertical tab, the form feed and
/// Unicode's line and paragraph separators) into `\n` and tabs into spaces
/// (or both into spaces when `keep_newlines` is false), and puts the text in
/// NFC. The vertical tab and form feed separate words, as any line end
/// does: dropping them glued the words on either side.
///
/// Entities are decoded *before* control characters are stripped because the
/// controls often arrive as entities (`&#3;`).
pub(crate) fn clean(raw: &str, keep_newlines: bool) -> String {
    let decoded: Cow<'_, str> = if raw.contains('&') {
        let references = numeric_references(raw);
        match html_escape::decode_html_entities(&references) {
            Cow::Borrowed(_) => references,
            Cow::Owned(decoded) => Cow::Owned(decoded),
        }
    } else {
        Cow::Borrowed(raw)
    };
    if decoded.is_ascii() {
        return clean_ascii(&decoded, keep_newlines);
    }
    let mut out = String::with_capacity(decoded.len());
    let mut chars = decoded.chars().peekable();
    let newline = if keep_newlines { '\n' } else { ' ' };
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                // `\r\r\n` is one line end; a lone `\r` is one too. The
                // run is read once, however long.
                let mut run = 1;
                while chars.next_if_eq(&'\r').is_some() {
                    run += 1;
                }
                if chars.next_if_eq(&'\n').is_some() {
                    run = 1;
                }
                out.extend(std::iter::repeat_n(newline, run));
            }
            '\n' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}' => out.push(newline),
            '\t' => out.push(' '),
            c if is_invisible(c) => {
                if let Some(meant) = windows_1252(c) {
                    out.push(meant);
                }
            }
            c => out.push(c),
        }
    }
    nfc(out)
}

/// [`clean`] of ASCII text, byte by byte (most wire copy): the same rules,
/// without decoding characters; ASCII is its own NFC.
fn clean_ascii(text: &str, keep_newlines: bool) -> String {
    let newline = if keep_newlines { b'\n' } else { b' ' };
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\r' => {
                // As above: the run is read once.
                let run = bytes[at..].iter().take_while(|b| **b == b'\r').count();
                if bytes.get(at + run) == Some(&b'\n') {
                    out.push(newline);
                    at += run;
                } else {
                    out.extend(std::iter::repeat_n(newline, run));
                    at += run - 1;
                }
            }
            b'\n' | 0x0b | 0x0c => out.push(newline),
            b'\t' => out.push(b' '),
            // C0 controls and DEL: invisible (no Windows-1252 meaning).
            b if b < 0x20 || b == 0x7f => {}
            b => out.push(b),
        }
        at += 1;
    }
    // Only ASCII bytes were kept: always valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Handles the numeric character references that the HTML decoder leaves
/// alone: references to C0 controls (`&#3;`, which ends every Reuters body)
/// are removed, and references in 128–159 are read as Windows-1252, as HTML
/// does (`&#146;` is ’), instead of as C1 controls.
fn numeric_references(raw: &str) -> Cow<'_, str> {
    if !raw.contains("&#") {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let reference = &rest[at..];
        let body = &reference[2..];
        let (digits, radix) = match body.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (body, 10),
        };
        let length = digits.bytes().take_while(|b| b.is_ascii_hexdigit()).count();
        let number = (length > 0 && digits[length..].starts_with(';'))
            .then(|| u32::from_str_radix(&digits[..length], radix).ok())
            .flatten();
        let consumed = reference.len() - digits.len() + length + 1;
        match number.and_then(char::from_u32) {
            Some(c) if is_invisible(c) => {
                if let Some(meant) = windows_1252(c) {
                    out.push(meant);
                }
                rest = &reference[consumed..];
            }
            _ => {
                // Not a control: the HTML decoder handles it.
                out.push_str("&#");
                rest = body;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// What a C1 control code point meant when text was Windows-1252 read as
/// Latin-1 (the usual way a C1 code ends up in news copy).
fn windows_1252(c: char) -> Option<char> {
    Some(match c {
        '\u{80}' => '€',
        '\u{82}' => '‚',
        '\u{83}' => 'ƒ',
        '\u{84}' => '„',
        '\u{85}' => '…',
        '\u{86}' => '†',
        '\u{87}' => '‡',
        '\u{88}' => 'ˆ',
        '\u{89}' => '‰',
        '\u{8A}' => 'Š',
        '\u{8B}' => '‹',
        '\u{8C}' => 'Œ',
        '\u{8E}' => 'Ž',
        '\u{91}' => '‘',
        '\u{92}' => '’',
        '\u{93}' => '“',
        '\u{94}' => '”',
        '\u{95}' => '•',
        '\u{96}' => '–',
        '\u{97}' => '—',
        '\u{98}' => '˜',
        '\u{99}' => '™',
        '\u{9A}' => 'š',
        '\u{9B}' => '›',
        '\u{9C}' => 'œ',
        '\u{9E}' => 'ž',
        '\u{9F}' => 'Ÿ',
        _ => return None,
    })
}

/// NFC, skipping the allocation when the text is already normalised (always
/// true for ASCII, and for nearly all agency copy).
pub(crate) fn nfc(text: String) -> String {
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text
    } else {
        text.nfc().collect()
    }
}

/// Collapses every run of whitespace (newlines included) into one space and
/// trims. A run made only of no-break spaces stays a single no-break space.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_collapsed(&mut out, text);
    out
}

/// [`collapse_whitespace`] appending to `out`; a space separates what was
/// already in `out` from the new text when `out` is not empty.
pub(crate) fn push_collapsed(out: &mut String, text: &str) {
    if text.is_ascii() {
        // No no-break spaces in ASCII: words joined by single spaces, found
        // byte by byte (char::is_whitespace on ASCII: \t \n \x0b \x0c \r and space).
        let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
        let bytes = text.as_bytes();
        let mut need_space = !out.is_empty();
        let mut at = 0;
        while at < bytes.len() {
            while at < bytes.len() && is_space(bytes[at]) {
                at += 1;
            }
            let start = at;
            while at < bytes.len() && !is_space(bytes[at]) {
                at += 1;
            }
            if start < at {
                if need_space {
                    out.push(' ');
                }
                out.push_str(&text[start..at]);
                need_space = true;
            }
        }
        return;
    }
    // `pending` is the whitespace to emit before the next visible character:
    // None, a plain space, or a no-break space.
    let mut pending: Option<char> = if out.is_empty() { None } else { Some(' ') };
    let mut seen_visible = !out.is_empty();
    for c in text.chars() {
        if c.is_whitespace() {
            if !seen_visible {
                continue;
            }
            pending = match pending {
                None if is_no_break_space(c) => Some(c),
                Some(nb) if is_no_break_space(nb) && is_no_break_space(c) => Some(nb),
                _ => Some(' '),
            };
        } else {
            if let Some(space) = pending.take() {
                out.push(space);
            }
            out.push(c);
            seen_visible = true;
        }
    }
}

/// Cleans a one-line field (headline, byline, dateline): entities, controls,
/// NFC, whitespace collapsed.
pub(crate) fn clean_line(raw: &str) -> String {
    collapse_whitespace(&clean(raw, false))
}

/// Splits cleaned plain text into paragraphs.
///
/// Agency copy is often hard-wrapped at ~70 columns (Reuters): there, lines
/// are joined and a paragraph starts at a blank line or at an indented line
/// (Reuters indents paragraphs by 4 spaces and table rows and the sign-off by
/// 1, so any indentation counts). Text whose lines are long is not wrapped:
/// each line is then a paragraph. `standalone` marks lines that must stay a
/// paragraph of their own even inside wrapped text (a sign-off such as
/// `Reuter`, a feed tag, a leading byline), so that the furniture rules can
/// find them later.
pub(crate) fn paragraphs_from_text(
    text: &str,
    standalone: impl Fn(&str, bool) -> bool,
) -> Vec<String> {
    const WRAP_LIMIT: usize = 100;
    let hard_wrapped = text
        .split('\n')
        .all(|line| line.len() <= WRAP_LIMIT || line.chars().count() <= WRAP_LIMIT);

    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let mut previous_standalone = false;
    let mut first_line = true;
    for line in text.split('\n') {
        // Some Reuters copy shows a carriage return as a literal `^M`.
        let line = line.strip_suffix("^M").unwrap_or(line);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            flush(&mut paragraphs, &mut current);
            continue;
        }
        let alone = standalone(trimmed, first_line);
        first_line = false;
        let indented = line.starts_with(char::is_whitespace);
        if !hard_wrapped || indented || alone || previous_standalone {
            flush(&mut paragraphs, &mut current);
        }
        previous_standalone = alone;
        // A wrap after a hyphen splits a compound ("anti-|aircraft"); agency
        // copy does not hyphenate syllables, so the hyphen stays and no space
        // is added.
        if current.ends_with('-')
            && current[..current.len() - 1].ends_with(char::is_alphabetic)
            && trimmed.starts_with(char::is_alphabetic)
        {
            let mut joined = String::with_capacity(trimmed.len());
            push_collapsed(&mut joined, trimmed);
            current.push_str(&joined);
        } else {
            push_collapsed(&mut current, trimmed);
        }
    }
    flush(&mut paragraphs, &mut current);
    paragraphs
}

fn flush(paragraphs: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        paragraphs.push(std::mem::take(current));
    }
}

/// Counts the words of a text: whitespace-separated tokens that contain a
/// letter or a digit (so a lone dash or `--` is not a word). Chinese and
/// Japanese are written without spaces, so each ideograph or kana counts as a
/// word, the usual convention for those languages.
pub(crate) fn word_count(text: &str) -> u32 {
    if text.is_ascii() {
        // No CJK in ASCII: a token counts when it has a letter or digit.
        // Byte by byte (char::is_whitespace on ASCII: \t \n \x0b \x0c \r and
        // space): a token is counted at its first letter or digit.
        let mut count: usize = 0;
        let mut counted = false;
        for &b in text.as_bytes() {
            if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
                counted = false;
            } else if !counted && b.is_ascii_alphanumeric() {
                count += 1;
                counted = true;
            }
        }
        return u32::try_from(count).unwrap_or(u32::MAX);
    }
    let mut count: u32 = 0;
    for token in text.split_whitespace() {
        let mut other_alphanumeric = false;
        for c in token.chars() {
            if is_cjk(c) {
                count = count.saturating_add(1);
            } else if c.is_alphanumeric() {
                other_alphanumeric = true;
            }
        }
        if other_alphanumeric {
            count = count.saturating_add(1);
        }
    }
    count
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_entities_then_strips_controls() {
        // The tail of every Reuters body, and a ticker as Reuters sends it.
        assert_eq!(
            clean("Standard Oil &lt;SRD> said.\n Reuter\n&#3;", true),
            "Standard Oil <SRD> said.\n Reuter\n"
        );
        assert_eq!(
            clean("l&#x2019;Ukraine &amp; la Chine", false),
            "l’Ukraine & la Chine"
        );
        assert_eq!(clean("a\u{1}b\u{7f}c\u{81}d\u{feff}", true), "abcd");
        assert_eq!(clean("&#5;&#x1F;a&#10;b&#9731;&#x2603;", true), "a\nb☃☃");
        assert_eq!(
            clean("it&#146;s &#150; \u{92}ok&#3", false),
            "it’s – ’ok&#3"
        );
        assert_eq!(clean("&amp;#3; &#; &#xZZ;", false), "&#3; &#; &#xZZ;");
        assert_eq!(
            clean("one\r\ntwo\rthree\tfour", true),
            "one\ntwo\nthree four"
        );
        assert_eq!(clean("one\r\ntwo", false), "one two");
    }

    #[test]
    fn every_line_end_separates_words() {
        for text in [
            "one\r\r\ntwo\x0bthree\x0cfour",
            "óne\r\r\ntwo\x0bthree\x0cfour",
        ] {
            let first = text.split('\r').next().unwrap_or_default();
            assert_eq!(clean(text, true), format!("{first}\ntwo\nthree\nfour"));
            assert_eq!(clean(text, false), format!("{first} two three four"));
        }
        // Two lone carriage returns are a blank line; `\r\r\n` is one end.
        assert_eq!(clean("a\r\rb\r\r\nc", true), "a\n\nb\nc");
        assert_eq!(clean("á\r\rb\r\r\nc\u{2028}d", true), "á\n\nb\nc\nd");
        // A long run is read once (each CR used to measure the rest of it).
        for first in ["a", "á"] {
            let text = format!("{first}{}b", "\r".repeat(100_000));
            assert_eq!(
                clean(&text, true),
                format!("{first}{}b", "\n".repeat(100_000))
            );
        }
    }

    #[test]
    fn composes_to_nfc() {
        // "É" as E + combining acute.
        assert_eq!(clean("E\u{301}tats-Unis", false), "États-Unis");
    }

    #[test]
    fn collapses_whitespace_but_keeps_no_break_spaces() {
        assert_eq!(collapse_whitespace("  a \n\n b\t c  "), "a b c");
        // French guillemets with no-break spaces, as in the seed article.
        assert_eq!(
            collapse_whitespace("«\u{a0}pas de limites\u{a0}»"),
            "«\u{a0}pas de limites\u{a0}»"
        );
        assert_eq!(collapse_whitespace("a\u{a0}\u{a0}b"), "a\u{a0}b");
        assert_eq!(collapse_whitespace("a \u{a0}b"), "a b");
    }

    #[test]
    fn joins_hard_wrapped_reuters_lines() {
        let text = "SALVADOR, Feb 26 - Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\nJanuary.\n    The dry period means the temporao will be late this year.\n Reuter\n";
        let paragraphs = paragraphs_from_text(text, |line, _| line == "Reuter");
        assert_eq!(
            paragraphs,
            [
                "SALVADOR, Feb 26 - Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January.",
                "The dry period means the temporao will be late this year.",
                "Reuter",
            ]
        );
    }

    #[test]
    fn keeps_compound_hyphens_across_wraps() {
        let paragraphs = paragraphs_from_text("the second English-\nlanguage paper", |_, _| false);
        assert_eq!(paragraphs, ["the second English-language paper"]);
    }

    #[test]
    fn long_lines_are_paragraphs() {
        let long = "x".repeat(120);
        let text = format!("{long}\n{long}");
        assert_eq!(paragraphs_from_text(&text, |_, _| false).len(), 2);
    }

    #[test]
    fn counts_words() {
        assert_eq!(word_count("Shr 1.11 dlrs vs 1.04 dlrs -- up"), 7);
        assert_eq!(word_count("l’aide militaire « pas »"), 3);
        assert_eq!(word_count("Cambrios今天宣布"), 5);
        assert_eq!(word_count(""), 0);
    }
}
