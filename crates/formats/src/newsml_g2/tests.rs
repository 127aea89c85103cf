use super::*;
use wirestream_model::PubStatus;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/formats/newsml-g2/"
);

fn parse_bytes(bytes: &[u8]) -> Vec<RawItem> {
    let doc = Document::parse(bytes, None).unwrap();
    parse(&doc, &Context::new("t")).unwrap()
}

fn listing(name: &str) -> RawItem {
    let bytes = std::fs::read(format!("{DIR}{name}")).unwrap();
    let mut items = parse_bytes(&bytes);
    assert_eq!(items.len(), 1);
    items.remove(0)
}

#[test]
fn listing_1_news_item() {
    let item = listing("LISTING_1_A_NewsML-G2_News_Item.xml");
    assert_eq!(item.uri, "urn:newsml:acmenews.com:20161018:US-FINANCE-FED");
    assert_eq!(item.version, Some(11));
    assert_eq!(item.format, Format::NewsmlG2);
    assert_eq!(item.format_version.as_deref(), Some("2.35"));
    assert_eq!(item.provider, "reuters");
    assert_eq!(
        item.versioncreated.as_deref(),
        Some("2018-10-21T16:25:32-05:00")
    );
    assert_eq!(
        item.firstcreated.as_deref(),
        Some("2016-10-18T13:12:21-05:00")
    );
    assert_eq!(item.embargoed.as_deref(), Some("2018-10-23T12:00:00Z"));
    assert_eq!(item.pubstatus, PubStatus::Usable);
    assert!(item
        .ednote
        .as_deref()
        .unwrap()
        .starts_with("Note to editors: STRICTLY EMBARGOED."));
    assert_eq!(item.headline, "Fed to halt QE to avert \"bubble\"");
    assert_eq!(item.slugline.as_deref(), Some("US-Finance-Fed"));
    assert_eq!(item.language.as_deref(), Some("en-GB"));
    assert_eq!(item.byline.as_deref(), Some("Meredith Jameson"));
    assert_eq!(item.copyright.as_deref(), Some("Example Enews LLP"));
    assert_eq!(
        item.places,
        [Subject {
            code: Some("geo:345678".into()),
            name: Some("Berlin".into())
        }]
    );
    assert_eq!(item.dateline, None);
    assert_eq!(
        item.subjects,
        [
            Subject {
                code: Some("medtop:04000000".into()),
                name: Some("economy, business and finance".into())
            },
            Subject {
                code: Some("medtop:20000523".into()),
                name: Some("labour market".into())
            },
        ]
    );
    // The inlineXML holds only comments.
    assert_eq!(item.body, None);
}

#[test]
fn listing_2_text_document_with_nitf() {
    let item = listing("LISTING_2_NewsML-G2_Text_Document.xml");
    assert_eq!(item.uri, "urn:newsml:acmenews.com:20161121:US-FINANCE-FED");
    assert_eq!(item.provider, "acmenews.com");
    assert_eq!(item.language.as_deref(), Some("en-US"));
    assert_eq!(
        item.firstcreated.as_deref(),
        Some("2016-11-21T15:21:06-05:00")
    );
    assert_eq!(item.copyright.as_deref(), Some("Acme News and Media LLC"));
    assert_eq!(item.subjects.len(), 3);
    assert_eq!(item.places[0].name.as_deref(), Some("New York, NY"));
    let body = item.body.unwrap();
    assert_eq!(body.kind, BodyKind::Html);
    assert!(
        body.value
            .starts_with("<p>(New York, NY - October 21) Et, sent luptat"),
        "{}",
        body.value
    );
    assert!(
        body.value
            .ends_with("esto cons dolutpat, si.\n                       </p>"),
        "{}",
        body.value
    );
    assert!(
        matches!(&item.original, wirestream_model::Original::Utf8(s) if s.starts_with("<?xml"))
    );
}

#[test]
fn listing_25_fragment_in_a_news_item() {
    let fragment = std::fs::read_to_string(format!(
        "{DIR}LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml"
    ))
    .unwrap();
    // Alone it is a fragment, not a document we know.
    let err = crate::sniff(fragment.as_bytes(), crate::Hint::Auto).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownFormat);

    let wrapped = format!(
        r#"<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:sportsnetwork.com:1" version="1"><contentMeta/>{fragment}</newsItem>"#
    );
    let item = parse_bytes(wrapped.as_bytes()).remove(0);
    // Lines are read with their whitespace collapsed.
    assert_eq!(
        item.headline,
        "Arizona Diamondbacks (29-23) at Philadelphia Phillies (26-24), 7:05p.m."
    );
    assert_eq!(item.byline.as_deref(), Some("Sports Network"));
    assert!(item
        .description
        .as_deref()
        .unwrap()
        .starts_with("A pair of teams"));
    assert!(item
        .body
        .unwrap()
        .value
        .starts_with("<p>(Sports Network) - With the Philadelphia"));
    assert_eq!(item.provider, "sportsnetwork.com");
}

const MESSAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/">
  <header><sent>2024-03-01T10:00:00Z</sent></header>
  <itemSet>
    <newsItem guid="urn:newsml:example.com:20240301:a" version="1" standard="NewsML-G2" standardversion="2.33" xml:lang="fr">
      <itemMeta><itemClass qcode="ninat:text"/><provider qcode="nprov:AFP"/><versionCreated>2024-03-01T09:59:00Z</versionCreated><pubStatus qcode="stat:withheld"/></itemMeta>
      <contentMeta><urgency>3</urgency><headline>Premier titre</headline><headline role="hlrole:sub">Sous-titre</headline><by>Par Jean Dupont</by><dateline>PARIS, 1er mars</dateline>
        <description role="drol:summary">Résumé</description></contentMeta>
      <contentSet><inlineData contenttype="text/plain">Le corps &amp; le texte.</inlineData></contentSet>
    </newsItem>
    <newsItem guid="urn:newsml:example.com:20240301:b" version="2">
      <itemMeta><itemClass qcode="ninat:text"/><provider qcode="nprov:AFP"/><pubStatus qcode="stat:canceled"/></itemMeta>
      <contentMeta><headline>Second</headline></contentMeta>
      <contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body><p>Bonjour</p></body></html></inlineXML></contentSet>
    </newsItem>
  </itemSet>
</newsMessage>"#;

#[test]
fn news_message_with_two_items() {
    let items = parse_bytes(MESSAGE.as_bytes());
    assert_eq!(items.len(), 2);
    let (a, b) = (&items[0], &items[1]);
    assert_eq!(a.uri, "urn:newsml:example.com:20240301:a");
    assert_eq!(a.provider, "afp");
    assert_eq!(a.pubstatus, PubStatus::Withheld);
    assert_eq!(a.urgency, Some(3));
    assert_eq!(a.headline, "Premier titre");
    assert_eq!(a.subheadlines, ["Sous-titre"]);
    assert_eq!(a.byline.as_deref(), Some("Par Jean Dupont"));
    assert_eq!(a.dateline.as_deref(), Some("PARIS, 1er mars"));
    assert_eq!(a.description.as_deref(), Some("Résumé"));
    assert_eq!(a.language.as_deref(), Some("fr"));
    assert_eq!(
        a.body,
        Some(Body {
            kind: BodyKind::Text,
            value: "Le corps & le texte.".into()
        })
    );
    // Each item's original is its own element.
    let original = String::from_utf8(a.original.to_bytes()).unwrap();
    assert!(
        original.starts_with("<newsItem guid=\"urn:newsml:example.com:20240301:a\""),
        "{original}"
    );
    assert!(original.ends_with("</newsItem>"));
    assert!(!original.contains(":b\""));

    assert_eq!(b.version, Some(2));
    assert_eq!(b.pubstatus, PubStatus::Canceled);
    assert_eq!(
        b.body,
        Some(Body {
            kind: BodyKind::Html,
            value: "<p>Bonjour</p>".into()
        })
    );
}

#[test]
fn bad_fields_are_named() {
    let bad = MESSAGE.replace("version=\"2\"", "version=\"two\"");
    let doc = Document::parse(bad.as_bytes(), None).unwrap();
    let err = parse(&doc, &Context::new("t")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidField);
    assert_eq!(
        err.to_string(),
        "field `newsItem/@version`: expected a whole number, got \"two\""
    );

    let bad = MESSAGE.replace("stat:withheld", "stat:draft");
    let doc = Document::parse(bad.as_bytes(), None).unwrap();
    let err = parse(&doc, &Context::new("t")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("itemMeta/pubStatus/@qcode"));

    let doc = Document::parse(b"<newsMessage><itemSet/></newsMessage>", None).unwrap();
    assert_eq!(
        parse(&doc, &Context::new("t")).unwrap_err().kind,
        ErrorKind::Empty
    );
}

#[test]
fn a_standalone_package_item_reads_its_references() {
    let package = br#"<packageItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:wire.example:pkg:7" version="1">
  <itemMeta><itemClass qcode="ninat:composite"/><versionCreated>2024-04-02T10:00:00Z</versionCreated></itemMeta>
  <groupSet root="root"><group id="root" role="group:main">
    <itemRef residref="urn:newsml:wire.example:1"><title>Rail strike called off</title><description>Unions and the operator reached a deal overnight.</description></itemRef>
    <itemRef residref="urn:newsml:wire.example:2"><title>Trains run normally from Wednesday</title></itemRef>
  </group></groupSet>
</packageItem>"#;
    let item = parse_bytes(package).remove(0);
    assert_eq!(item.uri, "urn:newsml:wire.example:pkg:7");
    assert_eq!(item.headline, "Rail strike called off");
    let body = item.body.unwrap();
    assert_eq!(body.kind, BodyKind::Text);
    assert!(
        body.value.ends_with("Trains run normally from Wednesday"),
        "{}",
        body.value
    );
}

/// A `newsItem` whose `contentSet` is `content_set`.
fn with_content_set(content_set: &str) -> RawItem {
    let xml = format!(
        r#"<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x:1" version="1"><contentMeta><headline>H</headline></contentMeta><contentSet>{content_set}</contentSet></newsItem>"#
    );
    parse_bytes(xml.as_bytes()).remove(0)
}

#[test]
fn inline_xml_without_elements_keeps_its_text() {
    // Markup in CDATA: the body used to be lost.
    let item = with_content_set(
        r#"<inlineXML contenttype="application/xhtml+xml"><![CDATA[<p>One.</p><p>Two.</p>]]></inlineXML>"#,
    );
    assert_eq!(
        item.body,
        Some(Body {
            kind: BodyKind::Html,
            value: "<p>One.</p><p>Two.</p>".into()
        })
    );
    // Markup in CDATA under a type that does not say HTML: its tags do.
    let item = with_content_set(
        r#"<inlineXML contenttype="application/nitf+xml"><![CDATA[<p>One.</p>]]></inlineXML>"#,
    );
    assert_eq!(item.body.map(|b| b.kind), Some(BodyKind::Html));
    // Plain text.
    let item = with_content_set(
        r#"<inlineXML contenttype="text/plain">Just plain text &amp; entity.</inlineXML>"#,
    );
    assert_eq!(
        item.body,
        Some(Body {
            kind: BodyKind::Text,
            value: "Just plain text & entity.".into()
        })
    );
    // Blank: no body, and a richer rendition still wins.
    let item = with_content_set(
        r#"<inlineXML contenttype="text/plain"> </inlineXML><inlineData contenttype="text/plain">Data.</inlineData>"#,
    );
    assert_eq!(item.body.map(|b| b.value).as_deref(), Some("Data."));
}
