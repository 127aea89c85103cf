//! Small rules shared by every format: derived ids and provider names.

use wirestream_model::{Body, BodyKind, Format, Original, PubStatus, RawItem};

use crate::{Context, ErrorKind, ParseError};

/// An id for an item that carries none: `urn:wirestream:<kind>:` and the
/// first 32 hex digits (128 bits) of the BLAKE3 hash of its bytes, so the
/// same bytes always get the same id (a resent document is a duplicate, not
/// a new item).
pub(crate) fn derived_uri(kind: &str, bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes).to_hex();
    format!("urn:wirestream:{kind}:{}", &hash.as_str()[..32])
}

/// A provider name as a short lowercase slug: `Reuters` -> `reuters`,
/// `Associated Press` -> `associated-press`. `None` when nothing is left.
pub(crate) fn slug(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches(['-', '.']).trim_start_matches('.');
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The naming authority of an id: the host of an http(s) URL without `www.`
/// (`http://www.acmenews.com/about/` -> `acmenews.com`), or the provider
/// part of a NewsML URN (`urn:newsml:dpa.com:20090101:x` -> `dpa.com`).
/// Other URNs (`urn:uuid:…`) name no provider.
pub(crate) fn uri_authority(uri: &str) -> Option<String> {
    let uri = uri.trim();
    let lower = uri.get(..11).unwrap_or(uri).to_ascii_lowercase();
    let host = if lower.starts_with("urn:newsml:") {
        uri[11..].split(':').next()
    } else if let Some(rest) = ["http://", "https://"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| &uri[p.len()..])
    {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Drop user info and port.
        let host = authority.rsplit('@').next().unwrap_or_default();
        Some(host.split(':').next().unwrap_or_default())
    } else {
        None
    }?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    slug(host)
}

/// The provider of an item, by this rule (the same for every format):
///
/// 1. the context's `default_provider`, set by the transport from a trusted
///    source (the HTTP token, the spool folder, the feed), so a document can
///    never claim to be another provider's;
/// 2. else what the document says: its copyright holder or provider element
///    as a slug (`Reuters` -> `reuters`);
/// 3. else the authority of its id (see [`uri_authority`]);
/// 4. else `unknown`.
pub(crate) fn provider(ctx: &Context, declared: Option<&str>, uri: &str) -> String {
    ctx.default_provider
        .as_deref()
        .and_then(slug)
        .or_else(|| declared.and_then(slug))
        .or_else(|| uri_authority(uri))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A new item with the fields every parser sets the same way.
pub(crate) fn new_item(format: Format, original: &[u8], ctx: &Context) -> RawItem {
    let mut item = RawItem::new(format, Original::from_bytes(original), ctx.received_at);
    item.source.clone_from(&ctx.source);
    item
}

/// `Some` for a string with content, `None` for an empty or blank one:
/// providers send `""` for "not set" (ntb's `copyrightnotice`).
pub(crate) fn non_blank(value: impl Into<String>) -> Option<String> {
    let value = value.into();
    (!value.trim().is_empty()).then_some(value)
}

/// A body of plain text, or of HTML when the text is escaped markup
/// (`&lt;p&gt;…`, as some agencies and feeds send it): read as text, its
/// tags and style sheets would end up in the story.
pub(crate) fn text_body(text: String) -> Body {
    const TAGS: &[&str] = &[
        "<p>", "<p ", "<br", "<div", "<style", "<script", "<span", "</p>", "</a>", "<table",
    ];
    let lower = text
        .get(..text.len().min(4096))
        .unwrap_or(&text)
        .to_ascii_lowercase();
    let kind = if TAGS.iter().any(|tag| lower.contains(tag)) {
        BodyKind::Html
    } else {
        BodyKind::Text
    };
    Body { kind, value: text }
}

/// Elements whose tags separate words rather than sit inside them.
const BREAKING_TAGS: &[&str] = &["br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "img", "p"];

/// A line of HTML as text (an Atom `type="html"` title): every tag and
/// comment removed (a space where they break words), whitespace collapsed.
/// Tags in a line meant to be plain text (an RSS title) are the worker's to
/// judge, as the rest of its text is. Entities are left as they are: decoding them once
/// is the worker's job, as for every text field, so the escaped `&lt;` of an
/// HTML title is never taken for a tag. The text comes back unchanged when
/// no tag is removed.
pub(crate) fn html_line(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut removed = false;
    // Where the last `-->` ends: a `<!--` after it closes nowhere, and
    // looking for its end each time made a run of them quadratic.
    let last_close = html.rfind("-->").map_or(0, |at| at + 3);
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let closable = html.len() - tail.len() + 4 <= last_close;
        match tag_len(tail, closable) {
            Some((len, breaks)) => {
                if breaks {
                    out.push(' ');
                }
                removed = true;
                rest = &tail[len..];
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    if !removed {
        return html.to_owned();
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The length of the tag or comment at the start of `text` (a `<`), and
/// whether it breaks words; `None` when it is not one (or a comment, when
/// `closable` says no `-->` follows).
fn tag_len(text: &str, closable: bool) -> Option<(usize, bool)> {
    if let Some(after) = text.strip_prefix("<!--") {
        if !closable {
            return None;
        }
        let end = after.find("-->")?;
        return Some((4 + end + 3, false));
    }
    let bytes = text.as_bytes();
    let name_start = if bytes.get(1) == Some(&b'/') { 2 } else { 1 };
    if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = bytes[name_start..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b':')))
        .map_or(bytes.len(), |n| name_start + n);
    // A name must end at the tag's end, a space or a `/`: `<b` in `a <b2c`
    // is a tag only if the name stops there.
    if !matches!(
        bytes.get(name_end),
        Some(b'>' | b'/') | Some(b' ' | b'\t' | b'\r' | b'\n')
    ) {
        return None;
    }
    let name = &text[name_start..name_end];
    let local = name.rsplit(':').next().unwrap_or(name);
    // The closing `>`, ignoring any inside a quoted attribute value.
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(name_end) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => {
                let breaks = BREAKING_TAGS.contains(&local.to_ascii_lowercase().as_str());
                return Some((i + 1, breaks));
            }
            None if b == b'<' => return None,
            None => {}
        }
    }
    None
}

/// A version number from a text field (`version="11"`, `<RevisionId>2`).
pub(crate) fn version(field: &str, value: Option<&str>) -> Result<Option<u64>, ParseError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    value.parse().map(Some).map_err(|_| {
        ParseError::new(
            ErrorKind::InvalidField,
            format!("expected a whole number, got \"{value}\""),
        )
        .field(field)
    })
}

/// An urgency from a text field: 1 (most urgent) to 9 in every IPTC format.
/// A value that is not a number from 0 to 9 is an error, as it would sort
/// the item wrongly.
pub(crate) fn urgency(field: &str, value: Option<&str>) -> Result<Option<u8>, ParseError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.parse::<u8>() {
        Ok(n) if n <= 9 => Ok(Some(n)),
        _ => Err(ParseError::new(
            ErrorKind::InvalidField,
            format!("expected an urgency from 1 to 9, got \"{value}\""),
        )
        .field(field)),
    }
}

/// A publication status (`stat:usable`, `Usable`, `canceled`, `Embargoed`,
/// …; see [`PubStatus::parse`]). An unknown value is an error, as in every
/// format: read as usable it could publish an item the provider held back
/// or killed.
pub(crate) fn pubstatus(field: &str, value: Option<&str>) -> Result<PubStatus, ParseError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(PubStatus::Usable);
    };
    PubStatus::parse(value).ok_or_else(|| {
        ParseError::new(
            ErrorKind::InvalidField,
            format!("unknown status \"{value}\": expected usable, withheld, embargoed or canceled"),
        )
        .field(field)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_authorities() {
        assert_eq!(slug("Reuters").as_deref(), Some("reuters"));
        assert_eq!(slug(" NTB ").as_deref(), Some("ntb"));
        assert_eq!(
            slug("Associated Press").as_deref(),
            Some("associated-press")
        );
        assert_eq!(slug("  ").as_deref(), None);
        assert_eq!(
            uri_authority("urn:newsml:dpa.com:20090101:190510-99-167362").as_deref(),
            Some("dpa.com")
        );
        assert_eq!(
            uri_authority("http://www.acmenews.com/about/").as_deref(),
            Some("acmenews.com")
        );
        assert_eq!(
            uri_authority("https://user@tt.se:443/x").as_deref(),
            Some("tt.se")
        );
        assert_eq!(
            uri_authority("urn:8d19cf88-b3ab-4972-8fec-1207599f2872"),
            None
        );
        assert_eq!(uri_authority("urn:reuters21578:1"), None);
    }

    #[test]
    fn provider_rule() {
        let mut ctx = Context::new("cli");
        assert_eq!(
            provider(&ctx, Some("Reuters"), "urn:newsml:x.com:1"),
            "reuters"
        );
        assert_eq!(provider(&ctx, None, "urn:newsml:dpa.com:1"), "dpa.com");
        assert_eq!(provider(&ctx, Some(""), "urn:x"), "unknown");
        ctx.default_provider = Some("AFP".into());
        assert_eq!(provider(&ctx, Some("Reuters"), "urn:x"), "afp");
    }

    #[test]
    fn pubstatus_values() {
        assert_eq!(pubstatus("f", None).unwrap(), PubStatus::Usable);
        assert_eq!(pubstatus("f", Some(" ")).unwrap(), PubStatus::Usable);
        assert_eq!(
            pubstatus("f", Some("Embargoed")).unwrap(),
            PubStatus::Withheld
        );
        let err = pubstatus("f", Some("Pending")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidField);
    }

    #[test]
    fn html_lines_lose_their_tags() {
        assert_eq!(
            html_line("<b>Bold</b> headline &amp; more"),
            "Bold headline &amp; more"
        );
        assert_eq!(
            html_line("One<br/>two <a href=\"x>y\">link</a><!-- c -->"),
            "One two link"
        );
        assert_eq!(html_line("<P>Up</P><SPAN>per</SPAN>"), "Up per");
        // What is not a tag stays, and the text is left as sent.
        for text in ["a < b and c <d", "x &lt;b&gt; y", "<b unclosed"] {
            assert_eq!(html_line(text), text);
        }
        assert_eq!(html_line("<AAPL> rises"), "rises");
        assert_eq!(html_line("<b>x</b> <!-- open"), "x <!-- open");
        // A run of unclosed comments is read once.
        let run = "<!--".repeat(100_000);
        assert_eq!(html_line(&format!("<b>x</b>{run}")), format!("x{run}"));
        assert_eq!(html_line("a<!--<!-- b -->c"), "ac");
    }

    #[test]
    fn derived_uris_are_stable() {
        let a = derived_uri("text", b"abc");
        assert_eq!(a, derived_uri("text", b"abc"));
        assert_ne!(a, derived_uri("text", b"abd"));
        assert_eq!(a.len(), "urn:wirestream:text:".len() + 32);
    }
}
