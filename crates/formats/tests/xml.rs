//! XML documents through `parse_document`: dispatch, charsets, hostile input.

use wirestream_formats::{parse_document, Context, ErrorKind, Hint, ParseError};
use wirestream_model::{BodyKind, Format};

fn parse(bytes: &[u8]) -> Result<Vec<wirestream_model::RawItem>, ParseError> {
    parse_document(bytes, Hint::Auto, &Context::new("test"))
}

const G2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/formats/newsml-g2/LISTING_2_NewsML-G2_Text_Document.xml"
);

#[test]
fn dispatches_xml_formats() {
    let bytes = std::fs::read(G2).unwrap();
    let items = parse_document(
        &bytes,
        Hint::from_content_type("application/vnd.iptc.g2.newsitem+xml").unwrap(),
        &Context::new("t"),
    )
    .unwrap();
    assert_eq!(items[0].format, Format::NewsmlG2);
    assert_eq!(items[0].body.as_ref().unwrap().kind, BodyKind::Html);

    let nitf = parse(b"<nitf><head><title>T</title></head></nitf>").unwrap();
    assert_eq!(
        (nitf[0].format, nitf[0].headline.as_str()),
        (Format::Nitf, "T")
    );
    let rss = parse(b"<rss version=\"2.0\"><channel><item><title>R</title><guid>g</guid></item></channel></rss>").unwrap();
    assert_eq!((rss[0].format, rss[0].uri.as_str()), (Format::Rss, "g"));
    let atom = parse(b"<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>e</id><title>A</title></entry></feed>").unwrap();
    assert_eq!((atom[0].format, atom[0].uri.as_str()), (Format::Atom, "e"));
    let newsml = parse(b"<NewsML><NewsItem><NewsComponent><NewsLines><HeadLine>N</HeadLine></NewsLines></NewsComponent></NewsItem></NewsML>").unwrap();
    assert_eq!(
        (newsml[0].format, newsml[0].headline.as_str()),
        (Format::Newsml1, "N")
    );
    // An empty feed is a valid document with no items.
    assert!(parse(b"<rss><channel/></rss>").unwrap().is_empty());
}

#[test]
fn refuses_external_entities() {
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY e SYSTEM "file:///etc/passwd">]><nitf><head><title>&e;</title></head></nitf>"#;
    let err = parse(xxe).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
    assert!(
        err.to_string()
            .contains("DTD entity declarations are not accepted"),
        "{err}"
    );
    // Whatever the root element.
    let err = parse(br#"<!DOCTYPE x [<!ENTITY e SYSTEM "http://169.254.169.254/">]><x>&e;</x>"#)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
}

#[test]
fn refuses_billion_laughs() {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]>\n<newsItem guid=\"x\"><contentMeta><headline>&lol9;</headline></contentMeta></newsItem>");
    let err = parse(doc.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
}

#[test]
fn a_plain_doctype_is_ignored() {
    let items = parse(b"<!DOCTYPE nitf PUBLIC \"-//IPTC//DTD NITF 3.6//EN\" \"http://www.iptc.org/std/NITF/3.6/nitf-3-6.dtd\"><nitf><head><title>T</title></head></nitf>").unwrap();
    assert_eq!(items[0].headline, "T");
}

#[test]
fn truncated_xml_has_a_position() {
    let err = parse(b"<newsItem guid=\"x\">\n  <contentMeta>\n    <headline>Cut sh").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidXml);
    assert!(
        err.message.contains("<contentMeta>") || err.message.contains("<headline>"),
        "{err}"
    );
    assert!(err.location.unwrap().byte.is_some(), "{err}");

    let err = parse(b"<newsItem guid=\"x\"><contentMeta><headline").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidXml);
    let loc = err.location.unwrap();
    assert_eq!((loc.line, loc.byte), (Some(1), Some(32)), "{err}");

    let err = parse(b"<nitf>\n<head></body></nitf>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidXml);
    assert_eq!(err.location.unwrap().line, Some(2), "{err}");
}

#[test]
fn unknown_entities_are_named() {
    let err = parse(b"<nitf><head><title>A &bogus; B</title></head></nitf>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidXml);
    assert!(err.message.contains("`&bogus;`"), "{err}");
    // HTML entities are known, as NITF relies on them.
    let items =
        parse(b"<nitf><head><title>A&nbsp;&eacute;&#233;&#x00E9;&amp;</title></head></nitf>")
            .unwrap();
    assert_eq!(items[0].headline, "A\u{a0}ééé&");
}

#[test]
fn refuses_deep_nesting() {
    let doc = format!("<nitf>{}{}</nitf>", "<a>".repeat(1000), "</a>".repeat(1000));
    let err = parse(doc.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidXml);
    assert!(err.message.contains("nested deeper"), "{err}");
}

#[test]
fn honours_and_checks_encodings() {
    // Declared Latin-1, sent as Latin-1.
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><nitf><head><title>Caf\xE9</title></head></nitf>";
    assert_eq!(parse(latin1).unwrap()[0].headline, "Café");

    // Declared Latin-1, sent as UTF-8: the bytes win, with a warning.
    let items = parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><nitf><head><title>Café</title></head></nitf>".as_bytes()).unwrap();
    assert_eq!(items[0].headline, "Café");
    assert_eq!(items[0].warnings.len(), 1, "{:?}", items[0].warnings);
    assert!(
        items[0].warnings[0].contains("ISO-8859-1") && items[0].warnings[0].contains("UTF-8"),
        "{:?}",
        items[0].warnings
    );

    // Declared UTF-8, sent as Latin-1.
    let err = parse(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><nitf><head><title>Caf\xE9</title></head></nitf>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongCharset);
    assert_eq!(err.location.unwrap().byte, Some(60), "{err}");

    // No declaration, not UTF-8.
    let err = parse(b"<nitf><head><title>Caf\xE9</title></head></nitf>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidUtf8);

    // UTF-16 declared without a BOM, and an unknown encoding.
    let err = parse(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><nitf/>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongCharset);
    let err = parse(b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><nitf/>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongCharset);
    assert!(err.message.contains("x-klingon"), "{err}");

    // The content type's charset wins over the declaration.
    let hint = Hint::from_content_type("application/xml; charset=windows-1252").unwrap();
    let items = parse_document(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><nitf><head><title>Caf\xE9</title></head></nitf>", hint, &Context::new("t")).unwrap();
    assert_eq!(items[0].headline, "Café");

    // UTF-16 with a BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?><nitf><head><title>Été</title></head></nitf>"
            .encode_utf16()
    {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    assert_eq!(parse(&utf16).unwrap()[0].headline, "Été");
}

#[test]
fn limits_apply_to_feeds() {
    let mut ctx = Context::new("t");
    ctx.limits.max_items = 1;
    let feed =
        b"<rss><channel><item><guid>a</guid></item><item><guid>b</guid></item></channel></rss>";
    let err = parse_document(feed, Hint::Auto, &ctx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooManyItems);
}
