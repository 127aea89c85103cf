//! XML plumbing shared by the XML formats: decoding to UTF-8, a small
//! element tree, errors.

mod dtd;
mod tree;

use std::borrow::Cow;

use crate::encoding::{self, Bom};
use crate::sniff::Charset;
use crate::{ErrorKind, ParseError};

pub(crate) use dtd::Entities;
pub(crate) use tree::{parse_tree, Element};

/// A parsed XML document: its UTF-8 text and root element.
pub(crate) struct Document<'a> {
    /// Borrowed when the document was UTF-8 as sent.
    pub source: Cow<'a, str>,
    pub root: Element,
    /// What decoding noticed (a wrong charset declaration), for every item.
    pub warnings: Vec<String>,
    bytes: &'a [u8],
}

impl<'a> Document<'a> {
    pub fn parse(bytes: &'a [u8], charset: Option<Charset>) -> Result<Self, ParseError> {
        let decoded = decode(bytes, charset)?;
        let mut tree = parse_tree(&decoded.text)?;
        let mut source = decoded.text;
        // Bodies are cut out of the source: with internal entities, the
        // source they are cut from has them expanded (and is read again).
        if !tree.entities.is_empty() {
            let (head, rest) = source.split_at(tree.doctype_end.min(source.len()));
            let expanded = format!("{head}{}", tree.entities.expand_in(rest)?);
            tree = parse_tree(&expanded)?;
            source = Cow::Owned(expanded);
        }
        Ok(Document {
            source,
            root: tree.root,
            warnings: decoded.warnings,
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

/// Decodes an XML document to UTF-8 (see [`encoding::decode`]).
///
/// The encoding is, in order: a byte-order mark; UTF-16 recognised from the
/// first `<`; the charset of the content type (RFC 7303 lets it override
/// the document); the `encoding` of the XML declaration; UTF-8.
pub(crate) fn decode(
    bytes: &[u8],
    charset: Option<Charset>,
) -> Result<encoding::Decoded<'_>, ParseError> {
    if Bom::of(bytes).is_some() {
        return encoding::decode(bytes, None);
    }
    if let Some(utf16) = encoding::unmarked_utf16(bytes) {
        return encoding::decode(bytes, Some((utf16, utf16.name())));
    }
    let declared = match (charset, declared_encoding(bytes)) {
        (Some(charset), _) => encoding::declared(Some(charset)),
        (None, Some(label)) => match Charset::for_label(label) {
            Ok(Some(charset)) => Some((charset.encoding(), label)),
            Ok(None) => Some((encoding_rs::UTF_8, "UTF-8")),
            Err(_) => {
                return Err(ParseError::new(
                    ErrorKind::WrongCharset,
                    format!("the XML declaration names an unknown encoding `{label}`"),
                ))
            }
        },
        (None, None) => None,
    };
    encoding::decode(bytes, declared)
}

/// A quick-xml error as an [`ErrorKind::InvalidXml`] at `position`.
pub(crate) fn syntax_error(error: &quick_xml::Error, text: &[u8], position: u64) -> ParseError {
    let offset = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(text.len());
    ParseError::new(ErrorKind::InvalidXml, error.to_string()).at_offset(text, offset)
}
