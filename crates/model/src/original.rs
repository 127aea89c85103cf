use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The bytes of an item as the provider sent them.
///
/// Stored as text when they are valid UTF-8 (the common case, and readable in
/// Postgres and in `wirestream dlq show`), and as base64 otherwise so that
/// nothing is lost from a document in a wrong or unknown encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", content = "data", rename_all = "lowercase")]
pub enum Original {
    Utf8(String),
    Base64(String),
}

impl Original {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        // PostgreSQL text cannot hold NUL, so such documents travel as base64 too.
        match std::str::from_utf8(bytes) {
            Ok(text) if !bytes.contains(&0) => Original::Utf8(text.to_owned()),
            _ => Original::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    /// The same bytes in a form PostgreSQL `text` takes: text holding NUL
    /// (which only a record written around ingest can carry) becomes base64.
    pub fn storable(self) -> Self {
        match self {
            Original::Utf8(text) if text.contains('\0') => Original::from_bytes(text.as_bytes()),
            original => original,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Original::Utf8(text) => text.as_bytes().to_vec(),
            Original::Base64(data) => base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap_or_default(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Original::Utf8(text) => text.len(),
            Original::Base64(data) => data.len() / 4 * 3,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text_and_binary() {
        let text = Original::from_bytes("Les États-Unis".as_bytes());
        assert!(matches!(text, Original::Utf8(_)));
        assert_eq!(text.to_bytes(), "Les États-Unis".as_bytes());

        let latin1 = [b'E', 0xC9, b't', b'a', b't'];
        let binary = Original::from_bytes(&latin1);
        assert!(matches!(binary, Original::Base64(_)));
        assert_eq!(binary.to_bytes(), latin1);

        let json = serde_json::to_string(&binary).unwrap();
        assert!(json.contains("\"encoding\":\"base64\""), "{json}");
    }
}
