//! Plain text: the first non-empty line is the headline, the rest the body.

use wirestream_model::{Body, BodyKind, Format, RawItem};

use crate::common::{derived_uri, new_item, provider};
use crate::sniff::Charset;
use crate::{Context, ErrorKind, ParseError};

/// Parses a plain-text article.
///
/// Text carries no metadata, so the id is derived from the bytes
/// (`urn:wirestream:text:<32 hex digits of BLAKE3>`) and the provider is the
/// context's default or `unknown`. The body is kept as sent, after the
/// headline's line; cleaning it is the normaliser's job.
pub(crate) fn parse(
    bytes: &[u8],
    charset: Option<Charset>,
    ctx: &Context,
) -> Result<RawItem, ParseError> {
    let decoded = decode(bytes, charset)?;
    let text = decoded.text;
    // Lines end in LF, CR LF, or a lone CR (classic Mac OS files, some
    // wire spoolers): a CR-only file is many lines, not one.
    let mut consumed = 0;
    let headline = loop {
        let rest = &text[consumed..];
        if rest.is_empty() {
            return Err(ParseError::new(
                ErrorKind::Empty,
                "the document is only whitespace",
            ));
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let ending = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        consumed += end + ending;
        let line = rest[..end].trim();
        if !line.is_empty() {
            break line;
        }
    };
    let rest = &text[consumed..];

    let mut item = new_item(Format::Text, bytes, ctx);
    item.uri = derived_uri("text", bytes);
    item.provider = provider(ctx, None, &item.uri);
    item.headline = headline.to_owned();
    item.warnings = decoded.warnings;
    if !rest.trim().is_empty() {
        item.body = Some(Body {
            kind: BodyKind::Text,
            value: rest.to_owned(),
        });
    }
    Ok(item)
}

/// The text as UTF-8 (see [`crate::encoding::decode`]): a byte-order mark
/// wins, then the charset the transport named (bytes that are UTF-8 despite
/// it are taken as UTF-8, with a warning). Without a charset, non-UTF-8
/// bytes are an error: guessing a charset would silently garble names and
/// quotes.
pub(crate) fn decode(
    bytes: &[u8],
    charset: Option<Charset>,
) -> Result<crate::encoding::Decoded<'_>, ParseError> {
    crate::encoding::decode(bytes, crate::encoding::declared(charset))
}

/// The error for bytes that are not UTF-8, at the first bad byte.
pub(crate) fn not_utf8(bytes: &[u8], offset: usize) -> ParseError {
    let bad = bytes.get(offset).copied().unwrap_or_default();
    ParseError::new(
        ErrorKind::InvalidUtf8,
        format!(
            "the document is not valid UTF-8 (byte 0x{bad:02X}); \
             name its charset in the content type if it is not UTF-8"
        ),
    )
    .at_offset(bytes, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirestream_model::Original;

    const SEED: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/seed-article-fr.txt"
    ));

    #[test]
    fn parses_the_seed_article() {
        let item = parse(SEED.as_bytes(), None, &Context::new("cli")).unwrap();
        assert_eq!(
            item.headline,
            "Les États-Unis affirment que la Russie a demandé l’aide militaire de la Chine pour l’invasion de l’Ukraine"
        );
        let body = item.body.unwrap();
        assert_eq!(body.kind, BodyKind::Text);
        assert!(
            body.value
                .trim_start()
                .starts_with("La Russie a demandé à la Chine"),
            "{}",
            &body.value[..80]
        );
        assert!(item.uri.starts_with("urn:wirestream:text:"));
        assert_eq!(
            item.uri,
            parse(SEED.as_bytes(), None, &Context::new("x"))
                .unwrap()
                .uri
        );
        assert_eq!(item.provider, "unknown");
        assert_eq!(item.format, Format::Text);
        assert_eq!(item.source, "cli");
        assert_eq!(item.original, Original::Utf8(SEED.to_owned()));
    }

    #[test]
    fn headline_only_and_default_provider() {
        let mut ctx = Context::new("spool:in");
        ctx.default_provider = Some("afp".into());
        let item = parse(b"\n\n  Breaking news  \n \n", None, &ctx).unwrap();
        assert_eq!(item.headline, "Breaking news");
        assert_eq!(item.body, None);
        assert_eq!(item.provider, "afp");
    }

    #[test]
    fn decodes_a_declared_charset_only() {
        let latin1 = b"\xC9tat\n\nL'\xE9t\xE9 arrive.";
        let err = parse(latin1, None, &Context::new("cli")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidUtf8);
        assert_eq!(err.location.and_then(|l| l.byte), Some(0));
        assert!(
            err.to_string().starts_with(
                "line 1, column 1 (byte 0): the document is not valid UTF-8 (byte 0xC9)"
            ),
            "{err}"
        );

        let charset = Charset::for_label("iso-8859-1").unwrap();
        let item = parse(latin1, charset, &Context::new("cli")).unwrap();
        assert_eq!(item.headline, "État");
        assert_eq!(item.body.unwrap().value, "\nL'été arrive.");
        assert!(matches!(item.original, Original::Base64(_)));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let item = parse(
            b"Floods close the port\r\rThe port was closed on Monday.\rShips wait offshore.\r",
            None,
            &Context::new("cli"),
        )
        .unwrap();
        assert_eq!(item.headline, "Floods close the port");
        assert_eq!(
            item.body.unwrap().value,
            "\rThe port was closed on Monday.\rShips wait offshore.\r"
        );
        let item = parse(b"Head\r\nBody.", None, &Context::new("cli")).unwrap();
        assert_eq!(item.headline, "Head");
        assert_eq!(item.body.unwrap().value, "Body.");
    }

    #[test]
    fn whitespace_only_is_empty() {
        let err = parse(b" \r\n\t\n", None, &Context::new("cli")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Empty);
    }
}
