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
            let tree::Tree {
                root,
                mut entities,
                doctype_end,
            } = tree;
            // Not held while the second is built: two trees of a large
            // document at once doubled the peak.
            drop(root);
            let (head, rest) = source
                .get(..doctype_end)
                .zip(source.get(doctype_end..))
                .unwrap_or(("", source.as_ref()));
            // The second reading counts only what it expands: the first
            // counted the same references, and counting both halved the
            // documented budget.
            entities.reset_budget();
            let expanded = format!("{head}{}", entities.expand_in(rest)?);
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
    /// `newsMessage`, an RSS `item`): its own element, as sent when the
    /// document was UTF-8 as sent, else as decoded to UTF-8 (with any DTD
    /// entities expanded). The whole document would be closer to the bytes
    /// sent, but once per item it made 1000 items of 5 MiB take 7 GB; the
    /// document's own encoding and entities are still in the original of a
    /// single-item document, which is the document itself.
    ///
    /// Only the whole document when the element cannot be cut out (which
    /// a tree built from this source does not have).
    pub fn original_of(&self, element: &Element) -> &[u8] {
        self.source
            .get(element.outer.clone())
            .map_or(self.bytes, str::as_bytes)
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

#[cfg(test)]
mod tests {
    use wirestream_model::Original;

    use super::*;
    use crate::{parse_document, Context, Hint};

    #[test]
    fn items_of_a_decoded_document_get_their_own_element() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\">\
            <channel><link>http://x.com/</link><item><guid>a</guid><title>Caf\xe9</title>\
            </item><item><guid>b</guid><title>B</title></item></channel></rss>";
        let items = parse_document(latin1, Hint::Auto, &Context::new("test")).unwrap();
        let originals: Vec<&Original> = items.iter().map(|i| &i.original).collect();
        assert_eq!(
            originals,
            [
                &Original::Utf8("<item><guid>a</guid><title>Café</title></item>".to_owned()),
                &Original::Utf8("<item><guid>b</guid><title>B</title></item>".to_owned()),
            ]
        );
        assert_eq!(items[0].headline, "Café");

        // A single-item document keeps the bytes as sent.
        let nitf = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><nitf><head><docdata>\
            <doc-id id-string=\"n\"/></docdata></head><body><body.head><hedline><hl1>Caf\xe9\
            </hl1></hedline></body.head></body></nitf>";
        let items = parse_document(nitf, Hint::Auto, &Context::new("test")).unwrap();
        assert_eq!(items[0].original.to_bytes(), nitf);
    }

    #[test]
    fn items_of_a_document_with_entities_get_their_own_element() {
        let g2 = "<!DOCTYPE newsMessage [<!ENTITY nbsp \"&#160;\">]><newsMessage \
            xmlns=\"http://iptc.org/std/nar/2006-10-01/\"><itemSet><newsItem guid=\"urn:x:1\">\
            <contentMeta><headline>A&nbsp;1</headline></contentMeta></newsItem><newsItem \
            guid=\"urn:x:2\"><contentMeta><headline>B</headline></contentMeta></newsItem>\
            </itemSet></newsMessage>";
        let doc = Document::parse(g2.as_bytes(), None).unwrap();
        let items: Vec<&Element> = doc.root.find_all("newsItem");
        let originals: Vec<&str> = items
            .iter()
            .map(|e| std::str::from_utf8(doc.original_of(e)).unwrap())
            .collect();
        assert_eq!(
            originals,
            [
                "<newsItem guid=\"urn:x:1\"><contentMeta><headline>A\u{a0}1</headline>\
                 </contentMeta></newsItem>",
                "<newsItem guid=\"urn:x:2\"><contentMeta><headline>B</headline>\
                 </contentMeta></newsItem>",
            ]
        );
    }

    #[test]
    fn the_expansion_budget_covers_attributes_and_counts_once() {
        let value = "x".repeat(8_000);
        // 200 references in one attribute: 1.6 MB, over the 1 MiB budget.
        let refs = "&e;".repeat(200);
        let source = format!(
            "<!DOCTYPE nitf [<!ENTITY e \"{value}\">]><nitf><head><title a=\"{refs}\">t</title></head></nitf>"
        );
        let Err(err) = Document::parse(source.as_bytes(), None) else {
            panic!("1.6 MB of attribute expansions were taken");
        };
        assert_eq!(err.kind, ErrorKind::ForbiddenDtd, "{err}");
        assert!(err.message.contains("attribute values"), "{err}");
        // 80 in text, 640 KB: within the budget, counted once.
        let refs = "&e;".repeat(80);
        let source = format!(
            "<!DOCTYPE nitf [<!ENTITY e \"{value}\">]><nitf><body><p>{refs}</p></body></nitf>"
        );
        let doc = Document::parse(source.as_bytes(), None).unwrap();
        let p = doc.root.find_all("p");
        assert_eq!(p[0].text().map(|t| t.len()), Some(640_000));
    }

    #[test]
    fn entities_are_not_expanded_in_cdata_and_keep_attributes_whole() {
        let source = "<!DOCTYPE nitf [<!ENTITY T \"Telegraph\"><!ENTITY q 'the \"best\"'>]>\
            <nitf><p class=\"&q;\">AT&T;<![CDATA[AT&T; stays]]><!-- &T; --></p></nitf>";
        let doc = Document::parse(source.as_bytes(), None).unwrap();
        let p = doc.root.child("p").unwrap();
        assert_eq!(p.text().as_deref(), Some("ATTelegraphAT&T; stays"));
        assert_eq!(p.attr("class"), Some("the \"best\""));
        assert_eq!(
            doc.inner_xml(p),
            "ATTelegraph<![CDATA[AT&T; stays]]><!-- &T; -->"
        );
    }
}
