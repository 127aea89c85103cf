// The golden values of the agency-shape fixtures
// (crates/formats/tests/fixtures): what the stored article says. Included by
// crates/normalize/tests/golden.rs and tests/e2e/formats_golden.rs.

/// What a stored article must say. `first` and `last` are the first and
/// last sentences of the body (its first and last lines' edges).
struct Golden {
    headline: &'static str,
    byline: Option<&'static str>,
    dateline: Option<&'static str>,
    first: &'static str,
    last: &'static str,
}

/// Every fixture that parses, with its golden values.
#[allow(dead_code)]
const GOLDEN: &[(&str, usize, Golden)] = &[
    ("anpa-1312.txt", 0, Golden {
        headline: "Harbor freight volumes hit a two-year high",
        byline: Some("By MARTA CLOUGH, Wire Business Writer"),
        dateline: Some("PORTLAND, Ore."),
        first: "Freight volumes at the harbor rose to a two-year high in March,",
        last: "Container traffic rose 9 percent from February.",
    }),
    ("anpa-1312.txt", 1, Golden {
        headline: "Lakeside crew wins spring regatta",
        byline: None,
        dateline: Some("SEATTLE"),
        first: "The Lakeside crew won the spring regatta on Tuesday by two lengths.",
        last: "The race was rowed in calm water.",
    }),
    ("iptc-7901.txt", 0, Golden {
        headline: "Salmon exports set a first-quarter record",
        byline: Some("By Ingrid Solberg"),
        dateline: Some("OSLO, April 2"),
        first: "Norway exported more salmon in the first quarter",
        last: "Prices in euros rose 6 percent.",
    }),
    ("iptc-7901.txt", 1, Golden {
        headline: "Season ends with a home win in Oslo",
        byline: None,
        dateline: Some("OSLO, April 2"),
        first: "The ski jumping season ended with a home win on Tuesday.",
        last: "Thousands watched from the hill.",
    }),
    ("atom-entry.xml", 0, Golden {
        headline: "Library extends opening hours for exam season",
        byline: Some("Ola Brekke"),
        dateline: None,
        first: "The central library will stay open until midnight from Monday.",
        last: "The longer hours run until the last exam on June 14.",
    }),
    ("atom-prefixed.xml", 0, Golden {
        headline: "Bridge on Mill Road reopens after repairs",
        byline: Some("Petra Holm"),
        dateline: None,
        first: "The Mill Road bridge reopened to traffic on Tuesday",
        last: "Engineers replaced two steel girders and the deck surface.",
    }),
    ("g2-header-lines.xml", 0, Golden {
        headline: "Prozess um Bestechung bei Ölgeschäften beginnt",
        byline: Some("Von Angelika Engler, dpa"),
        dateline: Some("Mailand (dpa)"),
        first: "In Mailand hat am Dienstag der Prozess",
        last: "Das Urteil wird im Herbst erwartet.",
    }),
    ("g2-headline-in-title.xml", 0, Golden {
        headline: "Dairy exporter lifts milk price forecast",
        byline: Some("By Staff Reporter HarbourDesk"),
        dateline: None,
        first: "The country's largest dairy exporter raised its milk price forecast on Tuesday.",
        last: "Farmers welcomed the higher forecast.",
    }),
    ("g2-message-prefixed.xml", 0, Golden {
        headline: "Copper climbs as smelters cut output",
        byline: Some("By Lena Marsh"),
        dateline: Some("LONDON, March 11"),
        first: "Copper prices rose to an eleven-month high on Monday",
        last: "Traders expect tighter supply through the second quarter.",
    }),
    ("g2-renditions.xml", 0, Golden {
        headline: "Grain shippers reroute as canal levels fall",
        byline: Some("By Lena Marsh"),
        dateline: Some("CHICAGO, April 2 (WIRE)"),
        first: "Grain shippers are sending barges on longer routes",
        last: "Freight rates have doubled since February.",
    }),
    ("jsonfeed-1.1.json", 0, Golden {
        headline: "Old lighthouse to become a museum",
        byline: Some("Tomas Grey"),
        dateline: None,
        first: "The town council voted on Tuesday to turn the old lighthouse into a maritime museum.",
        last: "Work starts in the autumn.",
    }),
    ("newsml1-internal-dtd.xml", 0, Golden {
        // The internal entity `&nbsp;` expanded, then collapsed as whitespace.
        headline: "Harbour cranes idle as dock workers walk out",
        byline: None,
        dateline: None,
        first: "Dock workers at the container harbour stopped work on Tuesday morning.",
        last: "The union says the strike will last two days, Nordic Wire Service reports.",
    }),
    ("newsml1-mixed-arabic.xml", 0, Golden {
        headline: "افتتاح معرض للكتاب في المدينة القديمة",
        byline: None,
        dateline: None,
        first: "افتتح معرض الكتاب السنوي أبوابه صباح الثلاثاء",
        last: "ويستمر المعرض عشرة أيام.",
    }),
    ("newsml1-mixed-datacontent.xml", 0, Golden {
        headline: "Les vendanges commencent plus tôt en Bourgogne",
        byline: None,
        dateline: Some("DIJON, 2 avr 2024"),
        first: "Les vendanges ont commencé avec deux semaines d'avance",
        last: "Les vignerons évoquent un printemps exceptionnellement chaud.",
    }),
    ("newsml1-nested-variant.xml", 0, Golden {
        headline: "Nieuwe fietsbrug over de Schelde geopend",
        byline: None,
        dateline: Some("ANTWERPEN (LOWPRESS)"),
        first: "De nieuwe fietsbrug over de Schelde is dinsdag officieel geopend.",
        last: "De brug verbindt de twee oevers over een lengte van vierhonderd meter.",
    }),
    ("newsml1-style-body.xml", 0, Golden {
        headline: "Orbital Pumps Reports Record First-Quarter Sales",
        byline: None,
        dateline: Some("DENVER--(RELEASE WIRE)"),
        first: "Orbital Pumps Inc. today reported record sales for the first quarter.",
        last: "Sales rose 14 percent to 212 million dollars.",
    }),
    ("nitf-agency-variant.xml", 0, Golden {
        headline: "Militärövning flyttas till hösten",
        byline: Some("Av Karin Lindqvist, NordPress"),
        dateline: Some("STOCKHOLM"),
        first: "Den stora militärövningen i Östersjön flyttas",
        last: "Beslutet fattades efter samråd med de deltagande länderna.",
    }),
    ("nitf-shift-jis.xml", 0, Golden {
        headline: "東京で桜が満開",
        byline: None,
        dateline: None,
        first: "気象台は二日、東京の桜が満開になったと発表した。",
        last: "平年より五日早い。",
    }),
    ("nitf-utf16le.xml", 0, Golden {
        headline: "Ferjene går igjen etter streiken",
        byline: None,
        dateline: None,
        first: "Ferjetrafikken over fjorden er i gang igjen",
        last: "Neste forhandlingsmøte er satt til fredag.",
    }),
    ("nitf-utf16be.xml", 0, Golden {
        headline: "Ferjene går igjen etter streiken",
        byline: None,
        dateline: None,
        first: "Ferjetrafikken over fjorden er i gang igjen",
        last: "Neste forhandlingsmøte er satt til fredag.",
    }),
    ("rss-091.xml", 0, Golden {
        headline: "Orchard festival draws record crowd",
        byline: None,
        dateline: None,
        first: "More than four thousand visitors came to the orchard festival",
        last: "on Saturday & Sunday.",
    }),
    ("rss-092.xml", 0, Golden {
        headline: "",
        byline: None,
        dateline: None,
        first: "The hill road will close for resurfacing from Monday.",
        last: "Buses will use the valley route.",
    }),
    ("rss-declared-latin1.xml", 0, Golden {
        headline: "Café owners protest new parking rules",
        byline: None,
        dateline: None,
        first: "Owners of twelve cafés in the old town",
        last: "The council will review the rules in June.",
    }),
    ("rss10-modules.xml", 0, Golden {
        headline: "Flood barrier passes its first test",
        byline: Some("Imogen Rhys"),
        dateline: None,
        first: "The new flood barrier held back the river during the weekend storm.",
        last: "Residents downstream stayed dry for the first time in years.",
    }),
];

