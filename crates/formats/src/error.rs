//! Parse errors: a stable machine-readable kind, and a message that tells a
//! provider exactly what is wrong and where.

use std::fmt;

/// What went wrong, as a stable code for dead letters, metrics and HTTP
/// responses (see [`ErrorKind::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Not well-formed JSON.
    InvalidJson,
    /// Not well-formed XML, or an unknown entity.
    InvalidXml,
    /// Bytes that are not UTF-8 where UTF-8 is required.
    InvalidUtf8,
    /// A declared charset the bytes do not match, or one we cannot decode.
    WrongCharset,
    /// A field the format requires is absent.
    MissingField,
    /// A field is present but its value is unusable.
    InvalidField,
    /// No content at all (zero bytes or only whitespace).
    Empty,
    /// The document, or a body in it, is larger than the limits allow.
    TooLarge,
    /// The document carries more items than the limits allow.
    TooManyItems,
    /// A format we recognise but do not parse, or a hint that contradicts the bytes.
    UnsupportedFormat,
    /// A content type or a document we cannot identify.
    UnknownFormat,
    /// An XML DTD declaring entities (XXE, billion laughs).
    ForbiddenDtd,
}

impl ErrorKind {
    /// The snake_case code: part of the dead-letter and HTTP contracts, so
    /// existing codes never change.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::InvalidXml => "invalid_xml",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::WrongCharset => "wrong_charset",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::InvalidField => "invalid_field",
            ErrorKind::Empty => "empty",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::TooManyItems => "too_many_items",
            ErrorKind::UnsupportedFormat => "unsupported_format",
            ErrorKind::UnknownFormat => "unknown_format",
            ErrorKind::ForbiddenDtd => "forbidden_dtd",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where in the input an error is. Lines and columns are 1-based, columns
/// count bytes (as serde_json does); `byte` is a 0-based offset.
///
/// For XML, offsets are in the UTF-8 text after any byte-order mark (so in
/// the decoded text for another charset); lines are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub byte: Option<usize>,
}

impl Location {
    /// The line and column of byte `offset` in `text`.
    pub fn of_offset(text: &[u8], offset: usize) -> Location {
        let before = &text[..offset.min(text.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        Location {
            line: Some(line),
            column: Some(offset - line_start + 1),
            byte: Some(offset),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column, self.byte) {
            (Some(line), Some(column), Some(byte)) => {
                write!(f, "line {line}, column {column} (byte {byte})")
            }
            (Some(line), Some(column), None) => write!(f, "line {line}, column {column}"),
            (Some(line), None, Some(byte)) => write!(f, "line {line} (byte {byte})"),
            (Some(line), None, None) => write!(f, "line {line}"),
            (None, _, Some(byte)) => write!(f, "byte {byte}"),
            (None, Some(column), None) => write!(f, "column {column}"),
            (None, None, None) => Ok(()),
        }
    }
}

/// Why a document could not be read.
///
/// Displayed as `<location>: field `<name>`: <message>`, each prefix only when
/// known, e.g. ``line 3, column 17 (byte 52): expected `,` or `}` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ErrorKind,
    pub message: String,
    pub location: Option<Location>,
    /// The field at fault (`uri`, `version`, `newsItem/@guid`, …).
    pub field: Option<String>,
}

impl ParseError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ParseError {
            kind,
            message: message.into(),
            location: None,
            field: None,
        }
    }

    /// Names the field at fault.
    pub fn field(mut self, name: impl Into<String>) -> Self {
        self.field = Some(name.into());
        self
    }

    pub fn location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Locates the error at byte `offset` of `text`, with line and column.
    pub fn at_offset(self, text: &[u8], offset: usize) -> Self {
        self.location(Location::of_offset(text, offset))
    }

    /// Re-bases an error found in one NDJSON line onto the whole batch: the
    /// line number becomes the batch's, the byte offset is shifted by where
    /// the line starts, and the column (within the line) is kept.
    pub fn at_line(mut self, line: usize, byte_offset: usize) -> Self {
        let inner = self.location.unwrap_or_default();
        self.location = Some(Location {
            line: Some(line),
            column: inner.column,
            byte: Some(byte_offset + inner.byte.unwrap_or(0)),
        });
        self
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location.filter(|l| *l != Location::default()) {
            write!(f, "{location}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_location_field_and_message() {
        let err = ParseError::new(
            ErrorKind::InvalidField,
            "expected a whole number, got \"x\"",
        )
        .field("version")
        .at_offset(b"{\n  \"version\": \"x\"}", 15);
        assert_eq!(
            err.to_string(),
            "line 2, column 14 (byte 15): field `version`: expected a whole number, got \"x\""
        );
        assert_eq!(err.code(), "invalid_field");
    }

    #[test]
    fn at_line_rebases_ndjson_errors() {
        let err = ParseError::new(ErrorKind::InvalidJson, "expected `,` or `}`")
            .location(Location {
                line: Some(1),
                column: Some(17),
                byte: Some(16),
            })
            .at_line(3, 100);
        assert_eq!(
            err.to_string(),
            "line 3, column 17 (byte 116): expected `,` or `}`"
        );
        let plain = ParseError::new(ErrorKind::Empty, "the document is empty");
        assert_eq!(plain.to_string(), "the document is empty");
        assert_eq!(
            plain.at_line(2, 10).to_string(),
            "line 2 (byte 10): the document is empty"
        );
    }
}
