//! One fixture per class of real-world trouble (prefixed namespaces, UTF-16,
//! wrong charset declarations, internal DTDs, agency variants, wire
//! formats, JSON Feed): each parses with its text in the item's own fields,
//! and broken ones are refused with what and where.

use wirestream_formats::{parse_document, Context, ErrorKind, Hint};
use wirestream_model::{BodyKind, Format, RawItem};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn parse(name: &str) -> Vec<RawItem> {
    let bytes = std::fs::read(format!("{DIR}{name}")).unwrap();
    parse_document(&bytes, Hint::Auto, &Context::new("test"))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn one(name: &str) -> RawItem {
    let mut items = parse(name);
    assert_eq!(items.len(), 1, "{name}");
    items.remove(0)
}

fn body(item: &RawItem) -> &str {
    item.body.as_ref().map_or("", |b| b.value.as_str())
}

#[test]
fn prefixed_namespaces() {
    let atom = one("atom-prefixed.xml");
    assert_eq!(atom.format, Format::Atom);
    assert_eq!(atom.headline, "Bridge on Mill Road reopens after repairs");
    assert_eq!(atom.byline.as_deref(), Some("Petra Holm"));
    assert!(body(&atom).contains("six weeks of repairs"));

    let g2 = one("g2-message-prefixed.xml");
    assert_eq!(g2.format, Format::NewsmlG2);
    assert_eq!(g2.uri, "urn:newsml:wire.example:20240311:nz1");
    assert_eq!(g2.headline, "Copper climbs as smelters cut output");
    assert!(body(&g2).contains("eleven-month high"));
}

#[test]
fn utf16_with_a_byte_order_mark() {
    for name in ["nitf-utf16le.xml", "nitf-utf16be.xml"] {
        let item = one(name);
        assert_eq!(item.headline, "Ferjene går igjen etter streiken", "{name}");
        assert!(body(&item).contains("tre dager med streik"), "{name}");
        assert!(item.warnings.is_empty(), "{name}: {:?}", item.warnings);
    }
}

#[test]
fn standalone_atom_entry() {
    let item = one("atom-entry.xml");
    assert_eq!(item.format, Format::Atom);
    assert_eq!(
        item.headline,
        "Library extends opening hours for exam season"
    );
    assert_eq!(item.body.as_ref().unwrap().kind, BodyKind::Html);
    assert!(body(&item).contains("until midnight"));
}

#[test]
fn a_wrong_declared_charset_over_utf8_is_a_warning() {
    let item = one("rss-declared-latin1.xml");
    assert_eq!(item.headline, "Café owners protest new parking rules");
    assert_eq!(item.warnings.len(), 1, "{:?}", item.warnings);
}

#[test]
fn double_encoded_text_is_a_warning() {
    let item = one("rss-mojibake.xml");
    assert_eq!(item.warnings.len(), 1, "{:?}", item.warnings);
    assert!(
        item.warnings[0].contains("double-encoded"),
        "{:?}",
        item.warnings
    );
    // Sound text carries none.
    assert!(one("rss10-modules.xml").warnings.is_empty());
}

#[test]
fn legacy_charsets() {
    let item = one("nitf-shift-jis.xml");
    assert_eq!(item.headline, "東京で桜が満開");
    assert!(body(&item).contains("平年より五日早い"));
}

#[test]
fn internal_dtd_subsets() {
    let item = one("newsml1-internal-dtd.xml");
    assert_eq!(
        item.headline,
        "Harbour cranes idle as dock workers walk out"
    );
    assert_eq!(item.copyright.as_deref(), Some("© Nordic Wire Service"));
    assert!(
        body(&item).contains("Nordic Wire Service reports"),
        "{}",
        body(&item)
    );
    // External entities are still refused, with where.
    let bytes = std::fs::read(format!("{DIR}nitf-xxe.xml")).unwrap();
    let err = parse_document(&bytes, Hint::Auto, &Context::new("t")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
    assert_eq!(err.location.unwrap().line, Some(2), "{err}");
}

#[test]
fn agency_variants() {
    let nitf = one("nitf-agency-variant.xml");
    assert_eq!(nitf.headline, "Militärövning flyttas till hösten");
    assert_eq!(
        nitf.byline.as_deref(),
        Some("Av Karin Lindqvist, NordPress")
    );
    assert_eq!(nitf.dateline.as_deref(), Some("STOCKHOLM"));
    assert!(body(&nitf).contains("Försvarsmakten"));

    let nested = one("newsml1-nested-variant.xml");
    assert_eq!(nested.headline, "Nieuwe fietsbrug over de Schelde geopend");
    assert!(body(&nested).contains("fietsbrug over de Schelde is dinsdag"));

    let mixed = one("newsml1-mixed-datacontent.xml");
    assert_eq!(mixed.body.as_ref().unwrap().kind, BodyKind::Html);
    assert!(body(&mixed).contains("<p>Les vendanges ont commencé"));
    let arabic = one("newsml1-mixed-arabic.xml");
    assert!(body(&arabic).contains("افتتح معرض الكتاب"));

    let styled = one("newsml1-style-body.xml");
    assert_eq!(
        styled.headline,
        "Orbital Pumps Reports Record First-Quarter Sales"
    );
    assert_eq!(styled.body.as_ref().unwrap().kind, BodyKind::Html);

    let renditions = one("g2-renditions.xml");
    assert!(
        body(&renditions).contains("Freight rates have doubled"),
        "the richest rendition"
    );
    assert_eq!(renditions.provider, "wire.example");

    let titled = one("g2-headline-in-title.xml");
    assert_eq!(titled.headline, "Dairy exporter lifts milk price forecast");
    assert_eq!(
        titled.byline.as_deref(),
        Some("By Staff Reporter HarbourDesk")
    );
    assert_eq!(
        titled.body.as_ref().unwrap().kind,
        BodyKind::Html,
        "escaped markup"
    );
}

#[test]
fn old_and_modular_rss() {
    let rss091 = one("rss-091.xml");
    assert_eq!(rss091.format_version.as_deref(), Some("0.91"));
    assert_eq!(rss091.headline, "Orchard festival draws record crowd");
    assert!(body(&rss091).contains("four thousand visitors"));
    let rss092 = one("rss-092.xml");
    assert!(body(&rss092).contains("resurfacing"));

    let rdf = one("rss10-modules.xml");
    assert_eq!(rdf.byline.as_deref(), Some("Imogen Rhys"));
    assert_eq!(rdf.versioncreated.as_deref(), Some("2024-04-02T06:00:00Z"));
    assert_eq!(rdf.description.as_deref(), Some("The new barrier held."));
    assert!(body(&rdf).contains("weekend storm"));
}

#[test]
fn wire_transmissions() {
    let anpa = parse("anpa-1312.txt");
    assert_eq!(anpa.len(), 2);
    assert!(anpa.iter().all(|i| i.format == Format::Anpa1312));
    assert_eq!(anpa[0].slugline.as_deref(), Some("BC-Harbor-Freight"));
    assert_eq!(anpa[0].version, Some(2), "1stLd-Writethru");
    assert_eq!(anpa[0].urgency, Some(5));
    assert_eq!(anpa[1].urgency, Some(3));
    assert_eq!(
        anpa[0].versioncreated.as_deref(),
        Some("2024-04-02T14:32:00-04:00")
    );
    assert_eq!(
        anpa[0].headline,
        "Harbor freight volumes hit a two-year high"
    );

    let iptc = parse("iptc-7901.txt");
    assert_eq!(iptc.len(), 2);
    assert!(iptc.iter().all(|i| i.format == Format::Iptc7901));
    assert_eq!(iptc[0].slugline.as_deref(), Some("NORWAY-SALMON"));
    assert_eq!(iptc[0].version, Some(2), "UPDATE 1");
    assert_eq!(iptc[0].urgency, Some(3));
    assert_eq!(
        iptc[0].uri,
        "urn:wirestream:iptc-7901:nws:norway-salmon:2024-04-02"
    );

    // As text/plain too: the framing decides.
    let bytes = std::fs::read(format!("{DIR}iptc-7901.txt")).unwrap();
    let hint = Hint::from_content_type("text/plain").unwrap();
    let items = parse_document(&bytes, hint, &Context::new("t")).unwrap();
    assert_eq!(items[0].format, Format::Iptc7901);

    let bytes = std::fs::read(format!("{DIR}anpa-truncated.txt")).unwrap();
    let err = parse_document(&bytes, Hint::Auto, &Context::new("t")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidField);
    assert!(err.message.contains("no ETX"), "{err}");
    assert!(err.location.is_some(), "{err}");
}

#[test]
fn json_feed() {
    let item = one("jsonfeed-1.1.json");
    assert_eq!(item.format, Format::JsonFeed);
    assert_eq!(item.headline, "Old lighthouse to become a museum");
    assert_eq!(item.byline.as_deref(), Some("Tomas Grey"));
    let hint = Hint::from_content_type("application/feed+json").unwrap();
    let bytes = std::fs::read(format!("{DIR}jsonfeed-1.1.json")).unwrap();
    assert_eq!(
        parse_document(&bytes, hint, &Context::new("t")).unwrap()[0].format,
        Format::JsonFeed
    );
}

#[test]
fn every_fixture_is_read_or_refused_cleanly() {
    for entry in std::fs::read_dir(DIR).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match parse_document(&bytes, Hint::Auto, &Context::new("test")) {
            Ok(items) => {
                assert!(!items.is_empty(), "{name}");
                for item in items {
                    assert!(item.body.is_some(), "{name}: no body");
                }
            }
            Err(e) => assert!(
                name.contains("truncated") || name.contains("xxe"),
                "{name}: {e}"
            ),
        }
    }
}
