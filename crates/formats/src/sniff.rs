//! Telling formats apart: from the content type the transport announced
//! ([`Hint`]), and from the first bytes of the document ([`sniff`]).

use encoding_rs::Encoding;
use quick_xml::events::Event;
use wirestream_model::Format;

use crate::encoding::Bom;
use crate::{ErrorKind, ParseError};

/// What the transport says about a document, usually from its content type
/// (see [`Hint::from_content_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hint {
    /// Nothing useful: the format is sniffed from the bytes.
    #[default]
    Auto,
    /// One ninjs document.
    Json,
    /// Newline-delimited ninjs documents.
    Ndjson,
    /// An XML document; the root element tells which format. A charset given
    /// here wins over the XML declaration, as RFC 7303 says.
    Xml { charset: Option<Charset> },
    /// Plain text, in UTF-8 unless a charset is given.
    Text { charset: Option<Charset> },
}

/// A character set declared by a content type, other than UTF-8 (UTF-8 and
/// US-ASCII are represented by `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// The charset for a label (`iso-8859-1`, `windows-1252`, `latin1`, …),
    /// following the WHATWG Encoding Standard as browsers do. `Ok(None)` for
    /// UTF-8 and US-ASCII, an error for labels we cannot decode.
    pub fn for_label(label: &str) -> Result<Option<Charset>, ParseError> {
        let label = label.trim().trim_matches('"');
        // WHATWG maps "us-ascii" to windows-1252; for us ASCII is UTF-8's subset.
        if ["us-ascii", "ascii", "utf8", "utf-8"]
            .iter()
            .any(|l| l.eq_ignore_ascii_case(label))
        {
            return Ok(None);
        }
        match Encoding::for_label_no_replacement(label.as_bytes()) {
            Some(encoding) if encoding == encoding_rs::UTF_8 => Ok(None),
            Some(encoding) => Ok(Some(Charset(encoding))),
            None => Err(ParseError::new(
                ErrorKind::WrongCharset,
                format!("unknown or unsupported charset `{label}`"),
            )),
        }
    }

    /// The canonical name, e.g. `windows-1252` (also for `iso-8859-1`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub(crate) fn encoding(self) -> &'static Encoding {
        self.0
    }
}

impl Hint {
    /// The hint for a `Content-Type` header value. Generic types
    /// (`application/octet-stream`, empty) give [`Hint::Auto`]; unknown types
    /// are an [`ErrorKind::UnknownFormat`] error naming the type.
    pub fn from_content_type(content_type: &str) -> Result<Hint, ParseError> {
        let mut parts = content_type.split(';');
        let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut charset = None;
        for param in parts {
            if let Some((key, value)) = param.split_once('=') {
                if key.trim().eq_ignore_ascii_case("charset") {
                    charset = Charset::for_label(value)?;
                }
            }
        }
        let hint = match mime.as_str() {
            "" | "application/octet-stream" | "*/*" | "application/x-www-form-urlencoded" => {
                Hint::Auto
            }
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines" => Hint::Ndjson,
            "application/json" | "text/json" => Hint::Json,
            "application/xml" | "text/xml" => Hint::Xml { charset },
            // Wire transmissions are text; the SOH/STX framing tells them apart.
            "text/plain"
            | "application/x-anpa-1312"
            | "application/x-iptc-7901"
            | "text/x-anpa-1312"
            | "text/x-iptc-7901" => Hint::Text { charset },
            // `application/ninjs+json`, `application/vnd.iptc.ninjs+json`, …
            m if m.ends_with("+json") => Hint::Json,
            // `application/nitf+xml`, `application/vnd.iptc.g2.newsitem+xml`,
            // `application/rss+xml`, `application/atom+xml`, …
            m if m.ends_with("+xml") => Hint::Xml { charset },
            _ => {
                return Err(ParseError::new(
                    ErrorKind::UnknownFormat,
                    format!(
                        "unknown content type `{mime}`: send ninjs or a JSON Feed as \
                         application/json, NDJSON as application/x-ndjson, NewsML-G2, NewsML 1, \
                         NITF, RSS or Atom as application/xml, ANPA 1312, IPTC 7901 or plain \
                         text as text/plain"
                    ),
                ))
            }
        };
        // JSON has no charset parameter: RFC 8259 requires UTF-8.
        if let (Hint::Json | Hint::Ndjson, Some(charset)) = (hint, charset) {
            return Err(ParseError::new(
                ErrorKind::WrongCharset,
                format!("JSON must be UTF-8 (RFC 8259), not {}", charset.name()),
            ));
        }
        Ok(hint)
    }

    pub(crate) fn charset(self) -> Option<Charset> {
        match self {
            Hint::Xml { charset } | Hint::Text { charset } => charset,
            _ => None,
        }
    }
}

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The bytes without a UTF-8 byte-order mark, and the BOM's length.
pub(crate) fn strip_utf8_bom(bytes: &[u8]) -> (&[u8], usize) {
    match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, UTF8_BOM.len()),
        None => (bytes, 0),
    }
}

/// The format of a document, from the hint and the first bytes.
///
/// A specific hint is trusted (JSON is ninjs or a JSON Feed, text is text),
/// except that an XML hint must meet an XML document and that a text hint
/// meeting SOH/STX framing is a wire transmission. With [`Hint::Auto`], `{`
/// means JSON, `<` an XML format told by its root element, SOH (after any
/// SYN) a wire transmission, and anything else UTF-8 text.
pub fn sniff(bytes: &[u8], hint: Hint) -> Result<Format, ParseError> {
    let bom = Bom::of(bytes);
    // A UTF-16 or UTF-32 document is sniffed from its decoded text.
    if matches!(bom, Some(b) if b != Bom::Utf8) || crate::encoding::unmarked_utf16(bytes).is_some()
    {
        let decoded = crate::xml::decode(bytes, None)?;
        return sniff(decoded.text.as_bytes(), hint);
    }
    let (rest, _) = strip_utf8_bom(bytes);
    let Some(first) = rest.iter().copied().find(|b| !b.is_ascii_whitespace()) else {
        let message = if bytes.is_empty() {
            "the document is empty"
        } else {
            "the document is only whitespace"
        };
        return Err(ParseError::new(ErrorKind::Empty, message));
    };
    match hint {
        Hint::Json | Hint::Ndjson => Ok(json_format(rest, hint)),
        Hint::Text { .. } => Ok(crate::wire::format(rest).unwrap_or(Format::Text)),
        Hint::Xml { .. } if first != b'<' => Err(ParseError::new(
            ErrorKind::InvalidXml,
            format!(
                "the content type says XML but the document starts with `{}`",
                char::from(first).escape_default()
            ),
        )),
        Hint::Xml { .. } => xml_format(bytes),
        Hint::Auto => match first {
            b'{' => Ok(json_format(rest, hint)),
            b'<' => xml_format(bytes),
            _ => {
                if let Some(format) = crate::wire::format(rest) {
                    return Ok(format);
                }
                match std::str::from_utf8(rest) {
                    Ok(_) => Ok(Format::Text),
                    Err(e) => Err(crate::text::not_utf8(
                        bytes,
                        bytes.len() - rest.len() + e.valid_up_to(),
                    )),
                }
            }
        },
    }
}

/// A JSON document is a JSON Feed when its top-level `version` is a
/// jsonfeed.org version URL, or when it is one JSON Feed item on its own
/// (`json_feed::is_json_feed_item`), else ninjs.
fn json_format(bytes: &[u8], hint: Hint) -> Format {
    if hint != Hint::Ndjson
        && (crate::json_feed::is_json_feed(bytes) || crate::json_feed::is_json_feed_item(bytes))
    {
        Format::JsonFeed
    } else {
        Format::Ninjs
    }
}

/// The format of an XML document, from the local name of its root element.
fn xml_format(bytes: &[u8]) -> Result<Format, ParseError> {
    let text = strip_utf8_bom(bytes).0;
    let mut reader = quick_xml::Reader::from_reader(text);
    let root = loop {
        let position = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => break e.local_name().as_ref().to_vec(),
            // Refused here already, whatever the root, so that an attack is
            // reported as one.
            Ok(Event::DocType(doctype)) => {
                crate::xml::Entities::from_doctype(&String::from_utf8_lossy(&doctype))
                    .map_err(|e| e.at_offset(text, position))?;
            }
            Ok(Event::Eof) => {
                return Err(ParseError::new(
                    ErrorKind::InvalidXml,
                    "the XML document has no root element",
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(crate::xml::syntax_error(&e, text, reader.error_position())),
        }
    };
    match root.as_slice() {
        b"newsItem" | b"newsMessage" | b"packageItem" => Ok(Format::NewsmlG2),
        b"NewsML" => Ok(Format::Newsml1),
        b"nitf" => Ok(Format::Nitf),
        // A bare `item`: an RSS item's original, cut out of its feed.
        b"rss" | b"RDF" | b"item" => Ok(Format::Rss),
        b"feed" | b"entry" => Ok(Format::Atom),
        b"conceptItem" | b"knowledgeItem" | b"planningItem" | b"catalogItem" => {
            Err(ParseError::new(
                ErrorKind::UnsupportedFormat,
                format!(
                    "NewsML-G2 {} documents are not supported, only newsItem, packageItem and \
                     newsMessage",
                    String::from_utf8_lossy(&root)
                ),
            ))
        }
        other => Err(ParseError::new(
            ErrorKind::UnknownFormat,
            format!(
                "unknown XML root element <{}>: expected newsItem, newsMessage, packageItem, \
                 NewsML, nitf, rss, rdf:RDF, feed or entry",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_content_types() {
        let xml = Hint::Xml { charset: None };
        for (ct, hint) in [
            ("application/json", Hint::Json),
            ("application/ninjs+json", Hint::Json),
            ("application/vnd.iptc.ninjs+json; charset=utf-8", Hint::Json),
            ("application/x-ndjson", Hint::Ndjson),
            ("application/xml", xml),
            ("text/xml; charset=UTF-8", xml),
            ("application/nitf+xml", xml),
            ("application/vnd.iptc.g2.newsitem+xml", xml),
            ("application/rss+xml", xml),
            ("application/atom+xml", xml),
            ("text/plain", Hint::Text { charset: None }),
            ("text/plain; charset=us-ascii", Hint::Text { charset: None }),
            ("application/octet-stream", Hint::Auto),
            ("", Hint::Auto),
        ] {
            assert_eq!(Hint::from_content_type(ct).unwrap(), hint, "{ct}");
        }
        let latin1 = Hint::from_content_type("text/plain; charset=\"ISO-8859-1\"").unwrap();
        assert_eq!(latin1.charset().map(Charset::name), Some("windows-1252"));
    }

    #[test]
    fn rejects_unknown_types_and_charsets() {
        let err = Hint::from_content_type("image/jpeg").unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownFormat);
        assert!(err.message.contains("`image/jpeg`"), "{err}");

        let err = Hint::from_content_type("text/plain; charset=klingon").unwrap_err();
        assert_eq!(err.kind, ErrorKind::WrongCharset);
        assert!(err.message.contains("klingon"), "{err}");

        let err = Hint::from_content_type("application/json; charset=iso-8859-1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::WrongCharset);
    }

    #[test]
    fn sniffs_formats() {
        let cases: [(&[u8], Format); 9] = [
            (b"\xEF\xBB\xBF  {\"uri\":\"x\"}", Format::Ninjs),
            (
                b"<?xml version=\"1.0\"?>\n<!-- c --><newsItem xmlns=\"x\"/>",
                Format::NewsmlG2,
            ),
            (
                b"<g2:newsMessage xmlns:g2=\"x\"></g2:newsMessage>",
                Format::NewsmlG2,
            ),
            (
                b"<!DOCTYPE nitf SYSTEM \"nitf.dtd\"><nitf></nitf>",
                Format::Nitf,
            ),
            (b"<NewsML Version=\"1.2\"></NewsML>", Format::Newsml1),
            (b"<rss version=\"2.0\"><channel/></rss>", Format::Rss),
            (b"<rdf:RDF xmlns:rdf=\"r\"></rdf:RDF>", Format::Rss),
            (
                b"<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>",
                Format::Atom,
            ),
            ("Titre\n\nCorps du texte".as_bytes(), Format::Text),
        ];
        for (bytes, format) in cases {
            assert_eq!(
                sniff(bytes, Hint::Auto).unwrap(),
                format,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(
            sniff(b"{ not text", Hint::Text { charset: None }).unwrap(),
            Format::Text
        );
    }

    #[test]
    fn sniffs_new_formats_and_encodings() {
        let cases: [(&[u8], Hint, Format); 7] = [
            (
                b"<atom:entry xmlns:atom=\"http://www.w3.org/2005/Atom\"/>",
                Hint::Auto,
                Format::Atom,
            ),
            (b"<packageItem/>", Hint::Auto, Format::NewsmlG2),
            (
                b"\x16\x01a0001 r a BC-X 04-02 0010\x02text\x03",
                Hint::Auto,
                Format::Anpa1312,
            ),
            (
                b"\x01NWS0001 3 POL 0010\x02text\x03",
                Hint::Text { charset: None },
                Format::Iptc7901,
            ),
            (
                br#"{"version": "https://jsonfeed.org/version/1.1", "items": []}"#,
                Hint::Json,
                Format::JsonFeed,
            ),
            (
                br#"{"uri": "x", "body_html": "jsonfeed.org/version/1"}"#,
                Hint::Auto,
                Format::Ninjs,
            ),
            (
                b"<\x00n\x00i\x00t\x00f\x00/\x00>\x00",
                Hint::Auto,
                Format::Nitf,
            ),
        ];
        for (bytes, hint, format) in cases {
            assert_eq!(
                sniff(bytes, hint).unwrap(),
                format,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn sniff_errors() {
        assert_eq!(
            sniff(b"", Hint::Auto).unwrap_err().to_string(),
            "the document is empty"
        );
        assert_eq!(
            sniff(b" \n\t", Hint::Json).unwrap_err().kind,
            ErrorKind::Empty
        );
        let err = sniff(b"<html><body/></html>", Hint::Auto).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownFormat);
        assert!(err.message.contains("<html>"), "{err}");
        let err = sniff(b"{}", Hint::Xml { charset: None }).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidXml);
        let err = sniff(b"ab\xFFc", Hint::Auto).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidUtf8);
        assert_eq!(err.location.and_then(|l| l.byte), Some(2));
        let err = sniff(b"<conceptItem/>", Hint::Auto).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnsupportedFormat);
    }
}
