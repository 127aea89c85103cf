//! Size limits, checked before parsing (document size) and after (item count,
//! body size) so that one huge or hostile document cannot exhaust memory
//! downstream or flood the raw topic.

use serde::{Deserialize, Serialize};
use wirestream_model::RawItem;

use crate::{ErrorKind, ParseError};

const MIB: usize = 1024 * 1024;

/// Most elements one XML document may have. Each costs a hundred bytes or
/// so in the tree, and a document of nothing but `<a/>` packs a million
/// into 5 MiB (over 400 MB of tree); real documents are far from the
/// limit: the IPTC NewsML-G2 examples have one element per 80–95 bytes, so
/// 5 MiB of such markup holds about 60,000. Fixed rather than configurable:
/// it guards the parser, whatever the document and item limits are.
pub(crate) const MAX_ELEMENTS: usize = 500_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest document (or NDJSON line) accepted, in bytes.
    pub max_document_bytes: usize,
    /// Most items one document may carry (a `newsMessage`, a feed).
    pub max_items: usize,
    /// Largest body of one item, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 5 * MIB,
            max_items: 1000,
            max_body_bytes: 5 * MIB,
        }
    }
}

impl Limits {
    pub fn check_document(&self, bytes: &[u8]) -> Result<(), ParseError> {
        if bytes.len() > self.max_document_bytes {
            return Err(ParseError::new(
                ErrorKind::TooLarge,
                format!(
                    "the document is {} bytes, more than the {} bytes allowed",
                    bytes.len(),
                    self.max_document_bytes
                ),
            ));
        }
        Ok(())
    }

    /// The item count alone, for a parser that knows how many items a
    /// document holds before building them (and their originals).
    pub fn check_item_count(&self, count: usize) -> Result<(), ParseError> {
        if count > self.max_items {
            return Err(ParseError::new(
                ErrorKind::TooManyItems,
                format!(
                    "the document carries {count} items, more than the {} allowed",
                    self.max_items
                ),
            ));
        }
        Ok(())
    }

    pub fn check_items(&self, items: &[RawItem]) -> Result<(), ParseError> {
        self.check_item_count(items.len())?;
        for item in items {
            if let Some(body) = item
                .body
                .as_ref()
                .filter(|b| b.value.len() > self.max_body_bytes)
            {
                return Err(ParseError::new(
                    ErrorKind::TooLarge,
                    format!(
                        "the body of item `{}` is {} bytes, more than the {} bytes allowed",
                        item.uri,
                        body.value.len(),
                        self.max_body_bytes
                    ),
                )
                .field("body"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirestream_model::{Body, BodyKind, Format, Original};

    #[test]
    fn rejects_large_documents_bodies_and_item_counts() {
        let limits = Limits {
            max_document_bytes: 4,
            max_items: 1,
            max_body_bytes: 3,
        };
        assert!(limits.check_document(b"1234").is_ok());
        let err = limits.check_document(b"12345").unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert_eq!(
            err.to_string(),
            "the document is 5 bytes, more than the 4 bytes allowed"
        );

        let mut item = RawItem::new(Format::Text, Original::from_bytes(b""), chrono::Utc::now());
        item.uri = "a".into();
        item.body = Some(Body {
            kind: BodyKind::Text,
            value: "abcd".into(),
        });
        let err = limits.check_items(std::slice::from_ref(&item)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert_eq!(err.field.as_deref(), Some("body"));

        item.body = None;
        let err = limits.check_items(&[item.clone(), item]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooManyItems);
        assert_eq!(
            err.to_string(),
            "the document carries 2 items, more than the 1 allowed"
        );
        assert!(limits.check_item_count(1).is_ok());
        assert_eq!(
            limits.check_item_count(2).unwrap_err().kind,
            ErrorKind::TooManyItems
        );
    }
}
