//! From bytes to UTF-8 text, for every text format (XML, plain text, wire
//! transmissions): byte-order marks, declared charsets checked against the
//! bytes, legacy encodings, and a mojibake check on what comes out.

use std::borrow::Cow;

use encoding_rs::Encoding;

use crate::sniff::Charset;
use crate::{ErrorKind, ParseError};

/// A Unicode encoding announced by a byte-order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bom {
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl Bom {
    /// The mark at the start of `bytes`, if any. UTF-32LE is tested before
    /// UTF-16LE, whose mark is its prefix.
    pub fn of(bytes: &[u8]) -> Option<Bom> {
        match bytes {
            [0xFF, 0xFE, 0, 0, ..] => Some(Bom::Utf32Le),
            [0, 0, 0xFE, 0xFF, ..] => Some(Bom::Utf32Be),
            [0xEF, 0xBB, 0xBF, ..] => Some(Bom::Utf8),
            [0xFF, 0xFE, ..] => Some(Bom::Utf16Le),
            [0xFE, 0xFF, ..] => Some(Bom::Utf16Be),
            _ => None,
        }
    }

    pub fn len(self) -> usize {
        match self {
            Bom::Utf8 => 3,
            Bom::Utf16Le | Bom::Utf16Be => 2,
            Bom::Utf32Le | Bom::Utf32Be => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Bom::Utf8 => "UTF-8",
            Bom::Utf16Le => "UTF-16LE",
            Bom::Utf16Be => "UTF-16BE",
            Bom::Utf32Le => "UTF-32LE",
            Bom::Utf32Be => "UTF-32BE",
        }
    }

    /// Decodes what follows the mark; an error when the bytes are not valid
    /// in the encoding the mark announces.
    pub fn decode(self, bytes: &[u8]) -> Result<Cow<'_, str>, ParseError> {
        let rest = &bytes[self.len().min(bytes.len())..];
        let invalid = || {
            wrong(format!(
                "the document starts with a {0} byte-order mark but is not valid {0}",
                self.name()
            ))
        };
        match self {
            Bom::Utf8 => std::str::from_utf8(rest)
                .map(Cow::Borrowed)
                .map_err(|e| crate::text::not_utf8(bytes, self.len() + e.valid_up_to())),
            Bom::Utf16Le | Bom::Utf16Be => {
                let encoding = if self == Bom::Utf16Le {
                    encoding_rs::UTF_16LE
                } else {
                    encoding_rs::UTF_16BE
                };
                encoding
                    .decode_without_bom_handling_and_without_replacement(rest)
                    .map(|text| Cow::Owned(text.into_owned()))
                    .ok_or_else(invalid)
            }
            Bom::Utf32Le | Bom::Utf32Be => {
                // encoding_rs has no UTF-32 (the web never uses it); it is
                // simple enough to read here.
                if !rest.len().is_multiple_of(4) {
                    return Err(invalid());
                }
                rest.chunks_exact(4)
                    .map(|unit| {
                        let unit = [unit[0], unit[1], unit[2], unit[3]];
                        let value = if self == Bom::Utf32Le {
                            u32::from_le_bytes(unit)
                        } else {
                            u32::from_be_bytes(unit)
                        };
                        char::from_u32(value)
                    })
                    .collect::<Option<String>>()
                    .map(Cow::Owned)
                    .ok_or_else(invalid)
            }
        }
    }
}

/// UTF-16 without a mark, recognised by an XML document's first `<` (the
/// XML spec's appendix F): `3C 00 3F 00` is little-endian, `00 3C 00 3F`
/// big-endian.
pub(crate) fn unmarked_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [0x3C, 0, b, 0, ..] if *b != 0 => Some(encoding_rs::UTF_16LE),
        [0, 0x3C, 0, b, ..] if *b != 0 => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
}

/// Decoded text, with the warnings decoding raised.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub warnings: Vec<String>,
}

/// Decodes bytes in the encoding a document names (`declared`, a label
/// from the content type or the XML declaration).
///
/// * A byte-order mark wins, as in browsers.
/// * A legacy charset declared for bytes that are valid UTF-8 with
///   non-ASCII characters: the declaration is wrong (valid UTF-8 is almost
///   never a legacy charset by chance), so the bytes are read as UTF-8 and
///   a warning says so, as browsers and feed readers do.
/// * Bytes that are not valid in the declared encoding are an
///   [`ErrorKind::WrongCharset`] error; with nothing declared, bytes must be
///   UTF-8 ([`ErrorKind::InvalidUtf8`]): guessing would garble names.
pub(crate) fn decode<'a>(
    bytes: &'a [u8],
    declared: Option<(&'static Encoding, &str)>,
) -> Result<Decoded<'a>, ParseError> {
    if let Some(bom) = Bom::of(bytes) {
        return Ok(Decoded {
            text: bom.decode(bytes)?,
            warnings: Vec::new(),
        });
    }
    let Some((encoding, label)) = declared.filter(|(e, _)| *e != encoding_rs::UTF_8) else {
        return std::str::from_utf8(bytes)
            .map(|text| Decoded {
                text: Cow::Borrowed(text),
                warnings: Vec::new(),
            })
            .map_err(|e| match declared {
                Some((_, label)) => wrong(format!(
                    "the document says {label} but byte 0x{:02X} is not valid UTF-8",
                    bytes[e.valid_up_to()]
                ))
                .at_offset(bytes, e.valid_up_to()),
                None => crate::text::not_utf8(bytes, e.valid_up_to()),
            });
    };
    let name = encoding.name();
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        if let Some(found) = unmarked_utf16(bytes) {
            return found
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|text| Decoded {
                    text: Cow::Owned(text.into_owned()),
                    warnings: Vec::new(),
                })
                .ok_or_else(|| wrong(format!("the document is not valid {}", found.name())));
        }
        return Err(wrong(format!(
            "the document declares {name} but has no byte-order mark and reads as ASCII"
        )));
    }
    if !bytes.is_ascii() {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Ok(Decoded {
                text: Cow::Borrowed(text),
                warnings: vec![format!(
                    "the document declares {label} but its bytes are UTF-8: read as UTF-8"
                )],
            });
        }
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| Decoded {
            text: Cow::Owned(text.into_owned()),
            warnings: Vec::new(),
        })
        .ok_or_else(|| {
            let valid = valid_prefix(encoding, bytes);
            wrong(format!(
                "the document is not valid {name} as declared (byte 0x{:02X}), nor UTF-8",
                bytes.get(valid).copied().unwrap_or_default()
            ))
            .at_offset(bytes, valid)
        })
}

/// The encoding for a charset label, as [`decode`] takes it.
pub(crate) fn declared(charset: Option<Charset>) -> Option<(&'static Encoding, &'static str)> {
    charset.map(|c| (c.encoding(), c.name()))
}

/// How many leading bytes decode without error, to point at the bad one.
fn valid_prefix(encoding: &'static Encoding, bytes: &[u8]) -> usize {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(bad, _) => read.saturating_sub(usize::from(bad)),
        _ => read,
    }
}

fn wrong(message: String) -> ParseError {
    ParseError::new(ErrorKind::WrongCharset, message)
}

/// Pairs that UTF-8 text read as Latin-1 or windows-1252 and encoded again
/// produces: `Ã©` for `é`, `â€™` for `’`, `Â ` for a no-break space.
fn double_encoded(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let Some(&next) = chars.peek() else { break };
        let hit = match c {
            // Lead bytes C3 and C2 of two-byte sequences, then a
            // continuation byte read as windows-1252.
            'Ã' => matches!(
                next,
                '\u{80}'
                    ..='\u{BF}'
                        | '€'
                        | '‚'
                        | 'ƒ'
                        | '„'
                        | '…'
                        | '†'
                        | '‡'
                        | 'ˆ'
                        | '‰'
                        | 'Š'
                        | '‹'
                        | 'Œ'
                        | 'Ž'
                        | '‘'
                        | '’'
                        | '“'
                        | '”'
                        | '•'
                        | '–'
                        | '—'
                        | '˜'
                        | '™'
                        | 'š'
                        | '›'
                        | 'œ'
                        | 'ž'
                        | 'Ÿ'
            ),
            'Â' => matches!(next, '\u{A0}'..='\u{BF}'),
            // E2 80 xx: punctuation (’ “ ” – —) read as windows-1252.
            'â' => next == '€',
            _ => false,
        };
        if hit {
            return true;
        }
    }
    false
}

/// A warning when decoded text looks broken: replacement characters (bytes
/// someone already failed to decode) or UTF-8 decoded twice.
pub(crate) fn mojibake(field: &str, text: &str) -> Option<String> {
    if text.contains('\u{FFFD}') {
        return Some(format!(
            "the {field} holds replacement characters (U+FFFD): text lost in an earlier decoding"
        ));
    }
    double_encoded(text).then(|| {
        format!("the {field} looks double-encoded (UTF-8 read as Latin-1, e.g. `Ã©` for `é`)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf(label: &str) -> Option<(&'static Encoding, &'static str)> {
        declared(Charset::for_label(label).unwrap())
    }

    #[test]
    fn byte_order_marks() {
        let text = "<a>Été</a>";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        let mut le32 = vec![0xFF, 0xFE, 0, 0];
        let mut be32 = vec![0, 0, 0xFE, 0xFF];
        for c in text.chars() {
            le32.extend_from_slice(&(c as u32).to_le_bytes());
            be32.extend_from_slice(&(c as u32).to_be_bytes());
        }
        for bytes in [le, be, le32, be32] {
            assert_eq!(decode(&bytes, None).unwrap().text, text);
        }
        let err = decode(&[0xFF, 0xFE, 0, 0, 0, 0xD8, 0, 0], None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::WrongCharset);
        assert!(err.message.contains("UTF-32LE"), "{err}");
    }

    #[test]
    fn a_wrong_declaration_over_utf8_is_a_warning() {
        let decoded = decode("Café".as_bytes(), utf("windows-1252")).unwrap();
        assert_eq!(decoded.text, "Café");
        assert_eq!(decoded.warnings.len(), 1);
        assert!(decoded.warnings[0].contains("windows-1252"));
        // Latin-1 bytes under a Latin-1 declaration: no warning.
        let decoded = decode(b"Caf\xE9", utf("iso-8859-1")).unwrap();
        assert_eq!((decoded.text.as_ref(), decoded.warnings.len()), ("Café", 0));
    }

    #[test]
    fn legacy_encodings() {
        for (label, text) in [
            ("shift_jis", "東京で地震"),
            ("euc-jp", "東京で地震"),
            ("euc-kr", "서울 뉴스"),
            ("koi8-r", "Москва"),
            ("gb18030", "北京新闻"),
            ("big5", "臺北新聞"),
            ("iso-8859-2", "Łódź"),
            ("windows-1251", "Новости"),
        ] {
            let (encoding, _) = utf(label).unwrap();
            let (bytes, _, unmappable) = encoding.encode(text);
            assert!(!unmappable, "{label}");
            assert_eq!(decode(&bytes, utf(label)).unwrap().text, text, "{label}");
        }
        // Bytes valid in neither the declared encoding nor UTF-8.
        let err = decode(b"abc\x82\xFF", utf("shift_jis")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::WrongCharset);
        assert!(err.message.contains("Shift_JIS"), "{err}");
        assert!(err.location.is_some());
    }

    #[test]
    fn mojibake_is_noticed() {
        assert!(mojibake("body", "CafÃ© au lait").is_some());
        assert!(mojibake("body", "It\u{e2}\u{20ac}\u{2122}s").is_some());
        assert!(mojibake("body", "a \u{FFFD} b").is_some());
        for fine in ["Café", "À Paris", "Ãgua", "â la carte"] {
            assert_eq!(mojibake("body", fine), None, "{fine}");
        }
    }
}
