//! XML plumbing shared by the XML formats: decoding to UTF-8, a small
//! element tree, errors.

mod tree;

use std::borrow::Cow;

use encoding_rs::Encoding;

use crate::sniff::{strip_utf8_bom, Charset};
use crate::{ErrorKind, ParseError};

pub(crate) use tree::{parse_tree, Element};

/// A parsed XML document: its UTF-8 text and root element.
pub(crate) struct Document<'a> {
    /// Borrowed when the document was UTF-8 as sent.
    pub source: Cow<'a, str>,
    pub root: Element,
    bytes: &'a [u8],
}

impl<'a> Document<'a> {
    pub fn parse(bytes: &'a [u8], charset: Option<Charset>) -> Result<Self, ParseError> {
        let source = decode(bytes, charset)?;
        let root = parse_tree(&source)?;
        Ok(Document {
            source,
            root,
            bytes,
        })
    }

    /// The bytes of one item of a container (a `newsItem` of a
    /// `newsMessage`, an RSS `item`): its own element when the document was
    /// UTF-8 as sent, else the whole document, so that the original is
    /// always bytes the provider really sent.
    pub fn original_of(&self, element: &Element) -> &'a [u8] {
        match self.source {
            Cow::Borrowed(text) => text
                .get(element.outer.clone())
                .map_or(self.bytes, str::as_bytes),
            Cow::Owned(_) => self.bytes,
        }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The markup inside an element, as sent (after decoding), trimmed.
    pub fn inner_xml(&self, element: &Element) -> &str {
        element.inner_xml(&self.source)
    }
}

/// The UTF-16 encoding announced by a byte-order mark, if any.
pub(crate) fn utf16_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF, ..] => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
}

/// The `encoding` of the XML declaration, read as ASCII (all the encodings
/// we accept without a BOM are ASCII-compatible).
fn declared_encoding(bytes: &[u8]) -> Option<&str> {
    let rest = bytes.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    Some(&value[..value.find(quote)?])
}

/// Decodes an XML document to UTF-8.
///
/// The encoding is, in order: a byte-order mark; the charset of the content
/// type (RFC 7303 lets it override the document); the `encoding` of the XML
/// declaration; UTF-8. A declaration that does not match the bytes is an
/// [`ErrorKind::WrongCharset`] error rather than a silent mis-decoding: a
/// legacy charset declared for bytes that are valid UTF-8 with non-ASCII
/// characters, UTF-16 declared without a BOM, UTF-8 declared for bytes that
/// are not.
pub(crate) fn decode(bytes: &[u8], charset: Option<Charset>) -> Result<Cow<'_, str>, ParseError> {
    if let Some(encoding) = utf16_bom(bytes) {
        return encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[2..])
            .map(|text| Cow::Owned(text.into_owned()))
            .ok_or_else(|| {
                wrong(format!(
                    "the document starts with a {} byte-order mark but is not valid {0}",
                    encoding.name()
                ))
            });
    }
    let (rest, bom) = strip_utf8_bom(bytes);
    let declared = declared_encoding(rest);
    let encoding = match (charset, declared) {
        (Some(charset), _) => Some(charset.encoding()),
        (None, _) if bom > 0 => None,
        (None, Some(label)) => Charset::for_label(label)
            .map_err(|_| {
                wrong(format!(
                    "the XML declaration names an unknown encoding `{label}`"
                ))
            })?
            .map(Charset::encoding),
        (None, None) => None,
    };
    let Some(encoding) = encoding else {
        return std::str::from_utf8(rest).map(Cow::Borrowed).map_err(|e| {
            let offset = bom + e.valid_up_to();
            match declared {
                Some(label) => wrong(format!(
                    "the XML declaration says {label} but byte 0x{:02X} is not valid UTF-8",
                    bytes[offset]
                ))
                .at_offset(bytes, offset),
                None => crate::text::not_utf8(bytes, offset),
            }
        });
    };
    let name = encoding.name();
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return Err(wrong(format!(
            "the document declares {name} but has no byte-order mark and reads as ASCII"
        )));
    }
    // Valid UTF-8 with non-ASCII characters is almost never a legacy charset
    // by chance: the declaration is wrong, and decoding would garble it.
    if !rest.is_ascii() && std::str::from_utf8(rest).is_ok() {
        return Err(wrong(format!(
            "the document declares {name} but its bytes are UTF-8"
        )));
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(rest)
        .map(|text| Cow::Owned(text.into_owned()))
        .ok_or_else(|| wrong(format!("the document is not valid {name} as declared")))
}

fn wrong(message: String) -> ParseError {
    ParseError::new(ErrorKind::WrongCharset, message)
}

/// Refuses a DOCTYPE that declares entities: expanding them is how XXE
/// (reading local files, reaching internal hosts) and "billion laughs"
/// (exponential expansion) attacks work, and no wire format needs them.
pub(crate) fn check_doctype(doctype: &[u8]) -> Result<(), ParseError> {
    let declares = doctype
        .windows(8)
        .any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"));
    if declares {
        return Err(ParseError::new(
            ErrorKind::ForbiddenDtd,
            "DTD entity declarations are not accepted (they allow XXE and billion-laughs attacks)",
        ));
    }
    Ok(())
}

/// A quick-xml error as an [`ErrorKind::InvalidXml`] at `position`.
pub(crate) fn syntax_error(error: &quick_xml::Error, text: &[u8], position: u64) -> ParseError {
    let offset = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(text.len());
    ParseError::new(ErrorKind::InvalidXml, error.to_string()).at_offset(text, offset)
}
