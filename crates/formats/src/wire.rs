//! ANPA 1312 and IPTC 7901: the classic agency wire formats, still sent
//! over satellite and TCP feeds.
//!
//! A transmission carries one or more messages, each framed by control
//! characters: `SOH` header `STX` text `ETX` trailer, optionally ended by
//! `EOT` and preceded by `SYN`s. The two formats differ in their headers:
//!
//! * ANPA 1312: `a0238 r f BC-Japan-Economy 1stLd-Writethru 06-15 0678`:
//!   service level and selector code, priority letter (`f` flash, `b`
//!   bulletin, `u` urgent, `r` regular, `d` deferred, `a` advisory),
//!   category letter, keyword (slug), optional version marker, filing date
//!   (`MM-DD`), word count. The text starts with `^`-marked lines (the
//!   keyword line, the headline, the byline) and paragraphs are indented;
//!   the trailer is a stamp like `AP-NY-06-15-94 0220EDT`.
//! * IPTC 7901: `AFP0123 3 POL 0345 UPDATE`: source and message number,
//!   priority digit (1 flash to 6), category (up to 3 letters), word count,
//!   optional version or take marker. The text starts with the keyword
//!   line and the headline; the trailer holds a stamp like `051430 GMT JAN 24`.
//!
//! Lines end in `<` (ANPA's quad left) or `=` (quad center), which are
//! dropped; a dateline `PLACE (AP) _ ` or `PLACE, Jan 5 (AFP) - ` at the
//! head of the first paragraph moves to `dateline` (the place and date,
//! without the agency marker).

use std::borrow::Cow;

use wirestream_model::{Body, BodyKind, Format, RawItem, Subject};

use crate::common::{derived_uri, new_item, provider};
use crate::sniff::Charset;
use crate::{Context, ErrorKind, ParseError};

const SYN: u8 = 0x16;
const SOH: u8 = 0x01;
const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const EOT: u8 = 0x04;

/// A header longer than this is not a wire header.
const MAX_HEADER_BYTES: usize = 512;

/// Line fill a transmission may start with: `SYN`s, and the `NUL` or `DEL`
/// padding some links and spoolers write before the first `SOH`.
fn is_fill(b: u8) -> bool {
    matches!(b, SYN | 0x00 | 0x7f) || b.is_ascii_whitespace()
}

/// The wire format of a transmission, when it starts (after whitespace and
/// line fill) with `SOH` and a header closed by `STX`.
pub(crate) fn format(bytes: &[u8]) -> Option<Format> {
    let start = bytes.iter().position(|b| !is_fill(*b))?;
    let rest = bytes[start..].strip_prefix(&[SOH])?;
    let end = rest.iter().take(MAX_HEADER_BYTES).position(|b| *b == STX)?;
    // A header names the message (`a0238 r f BC-…`): bytes without a letter
    // or digit between SOH and STX are binary, not a transmission.
    if !rest[..end].iter().any(u8::is_ascii_alphanumeric) {
        return None;
    }
    let header = String::from_utf8_lossy(&rest[..end]);
    Some(kind_of(&header))
}

/// The words of a header, without the telex start-of-message signal
/// `ZCZC` that some links still put before it.
fn header_tokens(header: &str) -> impl Iterator<Item = &str> {
    header
        .split_whitespace()
        .skip_while(|t| t.eq_ignore_ascii_case("zczc"))
}

/// IPTC 7901 when the second header token is a priority digit, else ANPA.
fn kind_of(header: &str) -> Format {
    let mut tokens = header_tokens(header);
    let first = tokens.next().unwrap_or_default();
    let mut second = tokens.next().unwrap_or_default();
    // `AFP 0123 3 POL`: the number may stand apart from the source.
    if first.chars().all(|c| c.is_ascii_alphabetic()) && second.len() >= 3 && is_digits(second) {
        second = tokens.next().unwrap_or_default();
    }
    if second.len() == 1 && second.chars().all(|c| ('1'..='6').contains(&c)) {
        Format::Iptc7901
    } else {
        Format::Anpa1312
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// One framed message, as offsets into the decoded transmission.
struct Message<'a> {
    header: &'a str,
    text: &'a str,
    trailer: &'a str,
    /// The message's own bytes (SOH to the end of its trailer).
    whole: &'a str,
}

/// Parses a transmission into one item per message. Each message is read
/// by its own header (a transmission mixing both formats is read as sent).
pub(crate) fn parse(
    bytes: &[u8],
    charset: Option<Charset>,
    ctx: &Context,
) -> Result<Vec<RawItem>, ParseError> {
    let (text, warnings, segments) = decode(bytes, charset)?;
    let messages = split(&text)?;
    // Before any item is built: a few bytes a message, five megabytes make
    // a million of them.
    ctx.limits.check_item_count(messages.len())?;
    let several = messages.len() > 1;
    Ok(messages
        .iter()
        .map(|message| {
            let offset = message.whole.as_ptr() as usize - text.as_ptr() as usize;
            // Segments are in text order: a binary search, not a scan per
            // message (a scan was quadratic in a transmission of many).
            let segment = segments
                .get(segments.partition_point(|s| s.text.end <= offset))
                .filter(|s| s.text.contains(&offset));
            // Each message of several keeps only its own bytes: the whole
            // transmission copied into each of a thousand items would be
            // gigabytes. As sent where they can be cut out (UTF-8, or
            // decoded message by message); after a declared charset, the
            // message's text as UTF-8.
            let original = match segment {
                _ if !several => bytes,
                Some(segment) => &bytes[segment.bytes.clone()],
                None => message.whole.as_bytes(),
            };
            let mut item = match kind_of(message.header) {
                Format::Iptc7901 => iptc7901(message, original, ctx),
                _ => anpa(message, original, ctx),
            };
            item.warnings.extend(warnings.iter().cloned());
            if segment.is_some_and(|s| s.latin) {
                item.warnings.push(LATIN_WARNING.to_owned());
            }
            item
        })
        .collect())
}

const LATIN_WARNING: &str =
    "the message is not UTF-8 and the transmission names no charset: read as windows-1252";

/// A part of a transmission decoded on its own: a message from its SOH to
/// the next, or the fill before the first.
struct Segment {
    /// Where it is in the decoded text.
    text: std::ops::Range<usize>,
    /// Where it is in the bytes sent.
    bytes: std::ops::Range<usize>,
    /// Read as windows-1252, its bytes not being UTF-8.
    latin: bool,
}

/// The decoded transmission, its warnings, and its segments when it was
/// decoded message by message.
type Decoded<'a> = (Cow<'a, str>, Vec<String>, Vec<Segment>);

/// Wire feeds are often 8-bit Latin without any label: without a charset,
/// a message whose bytes are not UTF-8 is read as windows-1252, with a
/// warning on its item. Message by message: a transmission that relays
/// several sources can mix UTF-8 stories with Latin ones.
fn decode(bytes: &[u8], charset: Option<Charset>) -> Result<Decoded<'_>, ParseError> {
    match crate::text::decode(bytes, charset) {
        Ok(decoded) => Ok((decoded.text, decoded.warnings, Vec::new())),
        Err(e) if e.kind == ErrorKind::InvalidUtf8 => {
            let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
            let mut segments = Vec::new();
            // Each segment is a message from its SOH on (the first may be
            // line fill): SOH is ASCII, never part of a UTF-8 sequence.
            let mut starts: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == SOH)
                .map(|(i, _)| i)
                .collect();
            starts.insert(0, 0);
            starts.push(bytes.len());
            for pair in starts.windows(2) {
                let part = &bytes[pair[0]..pair[1]];
                let start = text.len();
                let latin = match std::str::from_utf8(part) {
                    Ok(utf8) => {
                        text.push_str(utf8);
                        false
                    }
                    Err(_) => {
                        let (read, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(part);
                        text.push_str(&read);
                        true
                    }
                };
                segments.push(Segment {
                    text: start..text.len(),
                    bytes: pair[0]..pair[1],
                    latin,
                });
            }
            Ok((Cow::Owned(text), Vec::new(), segments))
        }
        Err(e) => Err(e),
    }
}

fn framing_error(text: &str, offset: usize, message: String) -> ParseError {
    ParseError::new(ErrorKind::InvalidField, message).at_offset(text.as_bytes(), offset)
}

/// Splits a transmission at each `SOH`.
fn split(text: &str) -> Result<Vec<Message<'_>>, ParseError> {
    let starts: Vec<usize> = text
        .match_indices(char::from(SOH))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return Err(framing_error(
            text,
            0,
            "the transmission has no SOH".to_owned(),
        ));
    }
    let mut messages = Vec::with_capacity(starts.len());
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        let segment = &text[start + 1..end];
        let number = n + 1;
        let Some(stx) = segment.find(char::from(STX)) else {
            return Err(framing_error(
                text,
                start,
                format!("message {number}: the header has no STX after it"),
            ));
        };
        let body = &segment[stx + 1..];
        let Some(etx) = body.find(char::from(ETX)) else {
            return Err(framing_error(
                text,
                start + 1 + stx,
                format!("message {number}: the text has no ETX after it (truncated?)"),
            ));
        };
        let after = &body[etx + 1..];
        let trailer = after.split(char::from(EOT)).next().unwrap_or_default();
        let whole_end = start + 1 + stx + 1 + etx + 1 + trailer.len();
        let eot = usize::from(after.len() > trailer.len());
        // What follows a message up to the next SOH is its trailer and
        // line fill; another STX there is a message whose SOH and header
        // were lost, and reading on would silently drop its story.
        if let Some(lost) = after.find(char::from(STX)) {
            return Err(framing_error(
                text,
                start + 1 + stx + 1 + etx + 1 + lost,
                format!(
                    "message {number}: an STX follows its ETX with no SOH before it \
                     (a message without its header?)"
                ),
            ));
        }
        messages.push(Message {
            header: &segment[..stx],
            text: &body[..etx],
            trailer,
            whole: &text[start..(whole_end + eot).min(end)],
        });
    }
    Ok(messages)
}

/// The lines of a message's text. Links end lines in `CR LF`, `LF`, a lone
/// `CR` (older terminals and some spoolers), or `CR CR LF`: a run of `CR`s
/// before an `LF` ends one line, a lone `CR` one line too. The vertical tab
/// and the form feed end a line as well (deleted, as the other control
/// characters are, they glued the words on either side). One pass: each run
/// of `CR`s is measured once, however long.
fn lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'\n' | 0x0b | 0x0c => {
                out.push(&text[start..at]);
                at += 1;
            }
            b'\r' => {
                out.push(&text[start..at]);
                let run = bytes[at..].iter().take_while(|b| **b == b'\r').count();
                if bytes.get(at + run) == Some(&b'\n') {
                    at += run + 1;
                } else {
                    out.extend(std::iter::repeat_n("", run - 1));
                    at += run;
                }
            }
            _ => {
                at += 1;
                continue;
            }
        }
        start = at;
    }
    if start < bytes.len() {
        out.push(&text[start..]);
    }
    out
}

/// Text lines without the ANPA line-end codes and control characters.
fn clean_lines(text: &str) -> Vec<String> {
    lines(text)
        .into_iter()
        .map(|line| {
            let line: String = line
                .chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect();
            line.trim_end()
                .trim_end_matches(['<', '=', '^'])
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// Paragraphs of a wire text: a new one at an indented line or after a
/// blank line, continuation lines joined with a space.
fn paragraphs(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in lines {
        if line.trim().is_empty() {
            open = false;
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        match out.last_mut() {
            Some(last) if open && !indented => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => out.push(line.trim().to_owned()),
        }
        open = true;
    }
    out
}

/// A dateline at the head of a paragraph: `TOKYO (AP) _ `, `PARIS, Jan 5
/// (AFP) - `. Returns the place (and date) and the rest of the paragraph.
fn split_dateline(paragraph: &str) -> Option<(String, String)> {
    let open = prefix(paragraph, 120).find(" (")?;
    let close = paragraph[open..].find(')')? + open;
    let agency = &paragraph[open + 2..close];
    if agency.is_empty()
        || agency.len() > 20
        || !agency
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
    {
        return None;
    }
    let place = &paragraph[..open];
    if !place.chars().next()?.is_uppercase() {
        return None;
    }
    let after = paragraph[close + 1..].trim_start();
    let rest = ["--", "_", "-", "–", "—"]
        .iter()
        .find_map(|dash| after.strip_prefix(dash))?;
    Some((place.trim().to_owned(), rest.trim_start().to_owned()))
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The body paragraphs, with a dateline moved out of the first.
fn body_and_dateline(mut paragraphs: Vec<String>) -> (Option<Body>, Option<String>) {
    let mut dateline = None;
    if let Some(first) = paragraphs.first_mut() {
        if let Some((place, rest)) = split_dateline(first) {
            dateline = Some(place);
            *first = rest;
        }
    }
    paragraphs.retain(|p| !p.is_empty());
    let body = (!paragraphs.is_empty()).then(|| Body {
        kind: BodyKind::Text,
        value: paragraphs.join("\n\n"),
    });
    (body, dateline)
}

/// A version from a marker: `1stLd` and `UPDATE 1` are the second version,
/// a bare `Writethru` too.
fn version_of(marker: &str) -> Option<u64> {
    let lower = marker.to_ascii_lowercase();
    let number = |s: &str| -> Option<u64> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    if let Some(at) = lower.find("update") {
        return number(lower[at + 6..].trim_start()).map(|n| n + 1);
    }
    if let Some(at) = lower.find("ld") {
        if let Some(n) = number(trailing_word(&lower[..at])) {
            return Some(n + 1);
        }
    }
    lower.contains("writethru").then_some(2)
}

/// A take number from a marker (`2ndTake`, `TAKE 2`, `2ND TAKE`).
fn take_of(marker: &str) -> Option<u64> {
    let lower = marker.to_ascii_lowercase();
    let at = lower.find("take")?;
    let after: String = lower[at + 4..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if let Ok(n) = after.parse() {
        return Some(n);
    }
    let digits: String = trailing_word(lower[..at].trim_end())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The run of ASCII letters and digits that ends `s` (`2nd` of `… 2nd`).
/// Found by characters, not bytes: the text before it may be any UTF-8.
fn trailing_word(s: &str) -> &str {
    let start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric())
        .last()
        .map_or(s.len(), |(i, _)| i);
    &s[start..]
}

/// An id stable across versions of one story: the format, source, keyword
/// and date, and the take; derived from the message's bytes when the
/// keyword or the date is missing.
fn story_uri(kind: &str, parts: &[Option<&str>], take: Option<u64>, whole: &str) -> String {
    if parts.iter().any(Option::is_none) {
        return derived_uri(kind, whole.as_bytes());
    }
    let mut uri = format!("urn:wirestream:{kind}");
    for part in parts.iter().flatten() {
        uri.push(':');
        uri.extend(part.chars().map(|c| {
            if c.is_whitespace() {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        }));
    }
    if let Some(take) = take.filter(|t| *t > 1) {
        uri.push_str(&format!(":take{take}"));
    }
    uri
}

fn subject(code: &str, name: Option<&str>) -> Subject {
    Subject {
        code: Some(code.to_owned()),
        name: name.map(str::to_owned),
    }
}

/// A `^` line addressed to editors: an advance for later release (`ADV
/// for …`, `Advance for …`, `For release …`, `Embargoed …`) or a note
/// (`Eds: …`, `Editors: …`).
fn is_note_to_editors(line: &str) -> bool {
    is_release_note(line) || {
        let lower = line.to_ascii_lowercase();
        lower.starts_with("eds:") || lower.starts_with("editors:") || lower.starts_with("eds.")
    }
}

fn is_release_note(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let adv = lower.strip_prefix("adv").is_some_and(|rest| {
        rest.starts_with([' ', ':']) || rest.starts_with(|c: char| c.is_ascii_digit())
    });
    // `Embargo on Cuba to be eased` is a headline: an embargo line says
    // until when, or for what.
    adv || [
        "advance for",
        "for release",
        "embargoed until",
        "embargoed till",
        "embargoed for",
        "embargoed:",
        "embargo until",
        "embargo till",
        "embargo for",
        "embargo:",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// The release time of an advance line that names the date, then the
/// clock time and its zone: `ADV for Release Sunday, June 16, 2024, at
/// 00:01 EDT`, `Embargoed until June 16, 2024 6:00 p.m. EST`. Other
/// wordings are not guessed at (the item's warnings say so).
fn release_time(line: &str) -> Option<String> {
    let words: Vec<String> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    let (at, month) = words
        .iter()
        .enumerate()
        .find_map(|(at, w)| month_of(w).map(|month| (at, month)))?;
    let day: u32 = words.get(at + 1)?.parse().ok()?;
    let year: i32 = words.get(at + 2)?.parse().ok()?;
    let mut rest = words[at + 3..].iter().map(String::as_str);
    let mut clock = rest.next()?;
    if clock == "at" {
        clock = rest.next()?;
    }
    let (hh, mm) = clock.split_once(':')?;
    let (mut hour, minute): (u32, u32) = (hh.parse().ok()?, mm.parse().ok()?);
    let mut zone = rest.next()?;
    match zone {
        "am" | "a.m" if hour == 12 => hour = 0,
        "pm" | "p.m" if hour < 12 => hour += 12,
        _ => {}
    }
    if matches!(zone, "am" | "a.m" | "pm" | "p.m") {
        zone = rest.next()?;
    }
    let offset = zone_offset(&zone.to_ascii_uppercase())?;
    let time = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00{offset}");
    chrono::DateTime::parse_from_rfc3339(&time).ok()?;
    Some(time)
}

/// ANPA 1312's category letters, as AP uses them.
fn anpa_category(code: &str) -> Option<&'static str> {
    Some(match code {
        "a" => "Domestic news",
        "b" => "Special events",
        "e" => "Entertainment",
        "f" => "Financial",
        "i" => "International news",
        "k" => "Commentary",
        "l" => "Lifestyle",
        "n" => "State and regional",
        "o" => "Weather",
        "p" => "Politics",
        "q" => "Sports results",
        "s" => "Sports",
        "t" => "Travel",
        "v" => "Advisories",
        "w" => "Washington",
        _ => return None,
    })
}

fn anpa(message: &Message, original: &[u8], ctx: &Context) -> RawItem {
    let tokens: Vec<&str> = header_tokens(message.header).collect();
    let selector = tokens.first().copied();
    let priority = tokens.get(1).copied();
    let category = tokens.get(2).copied();
    let slug = tokens.get(3).copied();
    let mut rest: Vec<&str> = tokens.iter().skip(4).copied().collect();
    // The word count is the sender's, of a text we measure ourselves.
    if rest.last().is_some_and(|t| is_digits(t)) {
        rest.pop();
    }
    let filing_date = if rest
        .last()
        .is_some_and(|t| t.len() == 5 && t.as_bytes()[2] == b'-')
    {
        rest.pop()
    } else {
        None
    };
    let marker = (!rest.is_empty()).then(|| rest.join(" "));

    let mut item = new_item(Format::Anpa1312, original, ctx);
    item.urgency = priority.and_then(|p| match p {
        "f" => Some(1),
        "b" => Some(2),
        "u" => Some(3),
        "r" => Some(5),
        "d" => Some(6),
        "a" => Some(7),
        _ => None,
    });
    item.subjects = category
        .map(|c| vec![subject(&format!("anpa-category:{c}"), anpa_category(c))])
        .unwrap_or_default();
    item.slugline = slug.map(str::to_owned);
    item.version = marker.as_deref().and_then(version_of);
    item.ednote = marker.clone();

    // The `^` lines: the keyword line, the headline, the byline.
    let lines = clean_lines(message.text);
    let mut index = 0;
    let mut heads = Vec::new();
    while let Some(line) = lines.get(index) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() && heads.is_empty() {
            index += 1;
            continue;
        }
        let Some(head) = trimmed.strip_prefix('^') else {
            break;
        };
        heads.push(head.trim().to_owned());
        index += 1;
    }
    let slug_lower = slug.map(str::to_ascii_lowercase);
    heads.retain(|h| {
        !slug_lower
            .as_deref()
            .is_some_and(|s| h.to_ascii_lowercase().starts_with(s))
    });
    let mut bylines = Vec::new();
    let mut headline = None;
    let mut notes = Vec::new();
    for head in heads {
        // `^ADV for Release Sunday, June 16, 2024, at 00:01 EDT` or
        // `^Eds: UPDATES with …`, before the headline or after it: a note
        // to editors, not a title.
        if bylines.is_empty() && is_note_to_editors(&head) {
            if item.embargoed.is_none() {
                item.embargoed = release_time(&head);
            }
            notes.push(head);
            continue;
        }
        if head.starts_with("By ") || head.starts_with("BY ") || !bylines.is_empty() {
            bylines.push(head);
        } else if headline.is_none() {
            headline = Some(head);
        } else {
            item.subheadlines.push(head);
        }
    }
    item.headline = headline.unwrap_or_default();
    item.byline = (!bylines.is_empty()).then(|| bylines.join(", "));
    if !notes.is_empty() {
        item.ednote = Some(
            marker
                .iter()
                .chain(&notes)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        );
        if item.embargoed.is_none() && notes.iter().any(|n| is_release_note(n)) {
            item.warnings.push(
                "the advance line names no release date and time that could be read".to_owned(),
            );
        }
    }
    let (body, dateline) = body_and_dateline(paragraphs(&lines[index..]));
    item.body = body;
    item.dateline = dateline;

    // `AP-NY-06-15-94 0220EDT`: the agency and the send time.
    let trailer = message.trailer.trim().trim_end_matches(['<', '=']);
    let agency = trailer
        .split('-')
        .next()
        .filter(|a| !a.is_empty() && a.len() <= 8 && a.chars().all(|c| c.is_ascii_alphabetic()));
    item.versioncreated = anpa_time(trailer).into_time(&mut item.warnings);
    let year = item.versioncreated.as_deref().map(|t| &t[..4]);
    let date = filing_date.map(|d| match year {
        Some(y) => format!("{y}-{d}"),
        None => d.to_owned(),
    });
    item.uri = story_uri(
        "anpa-1312",
        &[agency.or(selector), slug, date.as_deref()],
        marker.as_deref().and_then(take_of),
        message.whole,
    );
    item.provider = provider(ctx, agency, &item.uri);
    item
}

/// The UTC offsets of the zone abbreviations wire stamps use: US agencies'
/// own, and the European and Asian ones of agencies elsewhere (`MEZ` and
/// `MESZ` are German for CET and CEST). Where an abbreviation has two
/// meanings, the wire's is taken (`CST` US Central, not China; `BST`
/// British Summer Time, not Bangladesh); where no reading is the wire's
/// (`IST`: India, Ireland or Israel; `AST`: Atlantic or Arabia), none is
/// guessed.
fn zone_offset(zone: &str) -> Option<&'static str> {
    Some(match zone {
        "GMT" | "UTC" | "UT" | "Z" | "WET" => "+00:00",
        "BST" | "CET" | "MEZ" | "WEST" => "+01:00",
        "CEST" | "MESZ" | "EET" => "+02:00",
        "EEST" | "MSK" => "+03:00",
        "HKT" | "SGT" | "AWST" => "+08:00",
        "JST" | "KST" => "+09:00",
        "AEST" => "+10:00",
        "AEDT" => "+11:00",
        "NZST" => "+12:00",
        "NZDT" => "+13:00",
        "EDT" => "-04:00",
        "EST" | "CDT" => "-05:00",
        "CST" | "MDT" => "-06:00",
        "MST" | "PDT" => "-07:00",
        "PST" | "AKDT" => "-08:00",
        "AKST" => "-09:00",
        "HST" => "-10:00",
        _ => return None,
    })
}

/// A send time read from a trailer: none there, a time, or a stamp that
/// could not be read (an unknown zone, a day that does not exist), which
/// the item's warnings name.
#[derive(Debug, PartialEq)]
enum Stamp {
    Absent,
    Time(String),
    Unreadable(String),
}

impl Stamp {
    /// The stamp's time; an unreadable one leaves a warning.
    fn into_time(self, warnings: &mut Vec<String>) -> Option<String> {
        match self {
            Stamp::Absent => None,
            Stamp::Time(time) => Some(time),
            Stamp::Unreadable(why) => {
                warnings.push(format!("the trailer's send time was not read: {why}"));
                None
            }
        }
    }
}

/// Checks an assembled RFC 3339 time (the day must exist).
fn checked(time: String, zone: &str) -> Stamp {
    if chrono::DateTime::parse_from_rfc3339(&time).is_ok() {
        Stamp::Time(time)
    } else {
        Stamp::Unreadable(format!(
            "{} is not a date and time",
            time.trim_end_matches(zone)
        ))
    }
}

/// Stamp text quoted in a warning, cut short.
fn quoted(stamp: &str) -> String {
    format!("{:?}", prefix(stamp, 40))
}

/// A stamp's year: two digits (`94` is 1994, `24` 2024), or four.
fn century(yy: &str) -> Option<String> {
    if !is_digits(yy) {
        return None;
    }
    match yy.len() {
        2 => {
            let n: u32 = yy.parse().ok()?;
            Some(format!("{}{yy}", if n < 70 { 20 } else { 19 }))
        }
        4 => Some(yy.to_owned()),
        _ => None,
    }
}

/// `AP-NY-06-15-94 0220EDT` to `1994-06-15T02:20:00-04:00`.
fn anpa_time(trailer: &str) -> Stamp {
    let mut words = trailer.split_whitespace();
    let (Some(stamp), Some(time)) = (words.next(), words.next()) else {
        return Stamp::Absent;
    };
    let time = time.trim_end_matches(['<', '=']);
    let parts: Vec<&str> = stamp.rsplitn(4, '-').collect();
    let [yy, dd, mm, _] = parts[..] else {
        return Stamp::Absent;
    };
    let Some(letters) = time.find(|c: char| c.is_ascii_alphabetic()) else {
        return Stamp::Absent;
    };
    let (clock, zone) = time.split_at(letters);
    if !(is_digits(clock) && clock.len() == 4 && is_digits(mm) && is_digits(dd)) {
        return Stamp::Absent;
    }
    let Some(year) = century(yy) else {
        return Stamp::Absent;
    };
    let zone = zone.to_ascii_uppercase();
    let Some(offset) = zone_offset(&zone) else {
        return Stamp::Unreadable(format!("unknown time zone {:?}", prefix(&zone, 8)));
    };
    checked(
        format!(
            "{year}-{mm:0>2}-{dd:0>2}T{}:{}:00{offset}",
            &clock[..2],
            &clock[2..],
        ),
        offset,
    )
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The month (1–12) a word names: in full or cut to three letters or more
/// (`JAN`, `Sept`), in any case.
fn month_of(word: &str) -> Option<u32> {
    if word.len() < 3 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| m.starts_with(lower.as_str()))?;
    u32::try_from(month + 1).ok()
}

/// `051430 GMT JAN 24` (day, hour, minute, zone, month, year) to RFC 3339.
fn iptc7901_time(trailer: &str) -> Stamp {
    let words: Vec<&str> = trailer.split_whitespace().collect();
    for w in words.windows(4) {
        let [ddhhmm, zone, month, yy] = w else {
            continue;
        };
        if ddhhmm.len() != 6 || !is_digits(ddhhmm) || yy.len() != 2 || !is_digits(yy) {
            continue;
        }
        let Some(month) = month_of(month).filter(|_| month.len() == 3) else {
            continue;
        };
        let Some(year) = century(yy) else {
            continue;
        };
        let zone = zone.to_ascii_uppercase();
        let Some(offset) = zone_offset(&zone) else {
            return Stamp::Unreadable(format!(
                "unknown time zone {:?} in {}",
                prefix(&zone, 8),
                quoted(&w.join(" "))
            ));
        };
        return checked(
            format!(
                "{year}-{month:02}-{}T{}:{}:00{offset}",
                &ddhhmm[..2],
                &ddhhmm[2..4],
                &ddhhmm[4..],
            ),
            offset,
        );
    }
    Stamp::Absent
}

fn iptc7901(message: &Message, original: &[u8], ctx: &Context) -> RawItem {
    let mut tokens = header_tokens(message.header).peekable();
    let first = tokens.next().unwrap_or_default();
    let split = first
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(first.len());
    let source = &first[..split];
    // The message number (`AFP0123`, or `AFP 0123`) counts transmissions,
    // not stories: it is not part of the id.
    if first[split..].is_empty() && tokens.peek().is_some_and(|t| is_digits(t) && t.len() >= 3) {
        tokens.next();
    }
    let priority = tokens.next();
    let category = tokens.next();
    let rest: Vec<&str> = tokens.collect();
    let marker_tokens: Vec<&str> = rest.iter().copied().filter(|t| !is_digits(t)).collect();

    let mut item = new_item(Format::Iptc7901, original, ctx);
    item.urgency = priority
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| (1..=9).contains(p));
    item.subjects = category
        .map(|c| {
            vec![subject(
                &format!("iptc7901-category:{}", c.to_ascii_uppercase()),
                None,
            )]
        })
        .unwrap_or_default();

    let lines = clean_lines(message.text);
    let mut nonblank = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let keyword = nonblank.next().map(|(_, l)| l.trim().to_owned());
    let headline = nonblank.next();
    let mut index = headline.map_or(lines.len(), |(i, _)| i + 1);
    item.headline = headline
        .map(|(_, l)| l.trim().to_owned())
        .unwrap_or_default();
    if let Some((i, line)) = lines
        .iter()
        .enumerate()
        .skip(index)
        .find(|(_, l)| !l.trim().is_empty())
    {
        let line = line.trim();
        let intro = ["By ", "BY ", "Par ", "PAR ", "Von ", "VON ", "Por ", "Di "];
        if intro.iter().any(|p| line.starts_with(p)) && line.split_whitespace().count() <= 8 {
            item.byline = Some(line.to_owned());
            index = i + 1;
        }
    }
    // The keyword line: the slug, then any version or take marker.
    let (slug, line_marker) = match keyword.as_deref() {
        Some(k) => match k.find([' ', '(']) {
            Some(at) => (
                Some(k[..at].to_owned()),
                Some(k[at..].trim().trim_matches(['(', ')']).to_owned()),
            ),
            None => (Some(k.to_owned()), None),
        },
        None => (None, None),
    };
    let marker = line_marker
        .filter(|m| !m.is_empty())
        .or_else(|| (!marker_tokens.is_empty()).then(|| marker_tokens.join(" ")));
    item.slugline = slug.clone();
    item.version = marker.as_deref().and_then(version_of);
    item.ednote = marker.clone();
    let (body, dateline) = body_and_dateline(paragraphs(&lines[index.min(lines.len())..]));
    item.body = body;
    item.dateline = dateline;
    item.versioncreated = iptc7901_time(message.trailer).into_time(&mut item.warnings);
    let date = item.versioncreated.as_deref().map(|t| &t[..10]);
    let source = (!source.is_empty()).then_some(source);
    item.uri = story_uri(
        "iptc-7901",
        &[source, slug.as_deref(), date],
        marker.as_deref().and_then(take_of),
        message.whole,
    );
    item.provider = provider(ctx, source, &item.uri);
    item
}

#[cfg(test)]
mod tests;
