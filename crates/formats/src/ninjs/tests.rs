use super::*;
use wirestream_model::Original;

fn example(name: &str) -> RawItem {
    let path = format!(
        "{}/../../../shared/formats/ninjs/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse(&bytes, &Context::new("test")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn parses_every_example() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/formats/ninjs/examples"
    );
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let item = example(path.file_name().unwrap().to_str().unwrap());
        assert!(
            !item.uri.is_empty() && !item.headline.is_empty(),
            "{}",
            path.display()
        );
        assert_eq!(item.format, Format::Ninjs);
        count += 1;
    }
    assert!(count >= 6);
}

#[test]
fn dpa() {
    let item = example("dpa_text.json");
    assert_eq!(item.uri, "urn:newsml:dpa.com:20090101:190510-99-167362");
    assert_eq!(item.version, Some(2));
    assert_eq!(item.language.as_deref(), Some("de"));
    assert_eq!(item.byline.as_deref(), Some("Von Christian Hollmann, dpa"));
    assert_eq!(
        item.headline,
        "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?"
    );
    assert_eq!(item.urgency, Some(4));
    assert_eq!(item.provider, "dpa");
    assert_eq!(item.copyright.as_deref(), Some("dpa"));
    assert_eq!(
        item.versioncreated.as_deref(),
        Some("2019-05-10T16:02:28+02:00")
    );
    assert_eq!(item.format_version.as_deref(), Some("2"));
    let body = item.body.unwrap();
    assert_eq!(body.kind, BodyKind::Html);
    assert!(body
        .value
        .starts_with("<section class=\"main\"><p>Für Lucien Favre"));
    assert_eq!(item.source, "test");
    assert!(matches!(item.original, Original::Utf8(ref s) if s.contains("Hollmann")));
}

#[test]
fn ntb() {
    let item = example("ntb_text.json");
    assert_eq!(item.language.as_deref(), Some("nb-NO"));
    assert_eq!(item.version, Some(6));
    assert_eq!(item.provider, "ntb");
    let names: Vec<_> = item
        .subjects
        .iter()
        .filter_map(|s| s.name.as_deref())
        .collect();
    assert_eq!(
        names,
        ["Innenriks", "Teknologi", "Industri", "Olje og energi"]
    );
    assert_eq!(item.subjects[1].code.as_deref(), Some("13010000"));
    assert_eq!(
        item.places,
        [Subject {
            code: Some("Telemark".into()),
            name: Some("Telemark".into())
        }]
    );
    assert_eq!(item.copyright.as_deref(), Some("NTB"));
    assert_eq!(item.ednote.as_deref(), Some("Noe utvidet."));
    assert_eq!(item.slugline.as_deref(), Some("skien-google"));
    assert_eq!(item.firstcreated.as_deref(), Some("2019-08-09T09:30:04Z"));
    assert!(item.description.unwrap().starts_with("IT-giganten Google"));
    assert_eq!(item.body, None);
}

#[test]
fn simple_text() {
    let item = example("ninjsExSimpleText_2.json");
    assert_eq!(
        item.byline.as_deref(),
        Some("Paulo Santalucia and Frances d'Emilio")
    );
    assert_eq!(
        item.headline,
        "Captain of wrecked cruise ship on trial in Italy"
    );
    assert_eq!(item.version, None);
    assert_eq!(item.pubstatus, PubStatus::Usable);
    assert_eq!(item.provider, "ninjs.example.com");
    let body = item.body.unwrap();
    assert_eq!(body.kind, BodyKind::Html);
    assert!(body.value.starts_with("<body><p>GROSSETO"));
}

#[test]
fn tt_ap_businesswire() {
    let tt = example("tt_text_image_2.json");
    assert_eq!(tt.format_version.as_deref(), Some("2.1"));
    assert_eq!(tt.provider, "tt");
    assert_eq!(tt.urgency, Some(3));
    assert_eq!(tt.slugline.as_deref(), Some("militärövning"));
    let body = tt.body.unwrap();
    assert_eq!(body.kind, BodyKind::Html);
    assert!(body.value.starts_with("<html><head><title>Militärövning"));
    assert_eq!(tt.places.len(), 3);

    let ap = example("ap_image.json");
    assert_eq!(ap.version, Some(0));
    assert_eq!(ap.headline, "Turkey Islamic State");
    assert!(ap.description.unwrap().starts_with("FILE - In this Monday"));
    assert_eq!(
        ap.ednote.as_deref(),
        Some("TURKEY OUT  NOV. 11, 2019 FILE PHOTO")
    );
    assert_eq!(
        ap.subjects[2].code.as_deref(),
        Some("http://cv.ap.org/id/86aad5207dac100488ecba7fa5283c3e")
    );
    assert_eq!(ap.provider, "api.ap.org");
    assert_eq!(ap.body, None);

    let bw = example("businesswire-newsml-20130605006126.json");
    assert_eq!(bw.language.as_deref(), Some("zh"));
    assert_eq!(bw.headline, "Cambrios被Gartner評選為「最酷供應商」");
    assert_eq!(bw.subjects.len(), 13);
    assert_eq!(bw.provider, "businesswire.com");
}

#[test]
fn ninjs_1x_and_3x_spellings() {
    let v1 = br#"{"uri":"urn:x:1","headline":"Main","headline_extended":"Sub","byline":"A. Writer",
        "body_text":"plain","body_html":"<p>rich</p>","description_text":"summary",
        "subject":[{"name":"Economy","code":"04000000"}],"place":[{"name":"Paris"}],"located":"PARIS",
        "$standard":{"name":"ninjs","version":"1.6"}}"#;
    let item = parse(v1, &Context::new("t")).unwrap();
    assert_eq!(item.headline, "Main");
    assert_eq!(item.subheadlines, ["Sub"]);
    assert_eq!(item.byline.as_deref(), Some("A. Writer"));
    assert_eq!(
        item.body,
        Some(Body {
            kind: BodyKind::Html,
            value: "<p>rich</p>".into()
        })
    );
    assert_eq!(item.description.as_deref(), Some("summary"));
    assert_eq!(item.subjects[0].code.as_deref(), Some("04000000"));
    assert_eq!(item.dateline.as_deref(), Some("PARIS"));
    assert_eq!(item.format_version.as_deref(), Some("1.6"));

    let v3 = br#"{"uri":"urn:x:3","versionCreated":"2024-01-01T00:00:00Z","pubStatus":"stat:canceled",
        "copyrightHolder":"Agence France-Presse","embargoedUntil":"2024-01-02T00:00:00Z","edNote":"note",
        "headlines":[{"role":"sub","value":"Second"},{"role":"main","value":"First"}],
        "bodies":[{"contentType":"text/plain","value":"body"}],
        "people":[{"name":"Ann","rel":"author"},{"name":"Bob","rel":"subject"},{"name":"Cy","rel":"author"}]}"#;
    let item = parse(v3, &Context::new("t")).unwrap();
    assert_eq!(item.versioncreated.as_deref(), Some("2024-01-01T00:00:00Z"));
    assert_eq!(item.pubstatus, PubStatus::Canceled);
    assert_eq!(item.provider, "agence-france-presse");
    assert_eq!(item.embargoed.as_deref(), Some("2024-01-02T00:00:00Z"));
    assert_eq!(item.ednote.as_deref(), Some("note"));
    assert_eq!(item.headline, "First");
    assert_eq!(item.subheadlines, ["Second"]);
    assert_eq!(
        item.body,
        Some(Body {
            kind: BodyKind::Text,
            value: "body".into()
        })
    );
    assert_eq!(item.byline.as_deref(), Some("Ann, Cy"));
    assert_eq!(item.format_version.as_deref(), Some("3"));
}

fn error(json: &[u8]) -> ParseError {
    parse(json, &Context::new("t")).unwrap_err()
}

#[test]
fn truncated_json_has_a_location() {
    let err = error(b"{\n  \"uri\": \"urn:x\",\n  \"version\": ");
    assert_eq!(err.kind, ErrorKind::InvalidJson);
    let loc = err.location.unwrap();
    assert_eq!(loc.line, Some(3));
    assert_eq!(
        err.to_string(),
        format!(
            "line 3, column {} (byte {}): EOF while parsing a value",
            loc.column.unwrap(),
            loc.byte.unwrap()
        )
    );

    let err = error(b"{\"uri\": \"urn:x\" \"version\": 1}");
    assert_eq!(
        err.to_string(),
        "line 1, column 17 (byte 16): expected `,` or `}`"
    );
    let err = error(b"{\"uri\": \"a\"}\n{\"uri\": \"b\"}");
    assert!(err.message.contains("NDJSON"), "{err}");
}

#[test]
fn rejects_bad_inputs() {
    let err = error(b"{\"uri\": \"caf\xC3\xA9 \xFF\"}");
    assert_eq!(err.kind, ErrorKind::InvalidUtf8);
    assert_eq!(err.location.unwrap().byte, Some(15));

    assert_eq!(error(b"  ").kind, ErrorKind::Empty);

    let err = error(b" [1, 2]");
    assert_eq!(err.kind, ErrorKind::InvalidJson);
    assert_eq!(err.to_string(), "line 1, column 2 (byte 1): a ninjs document must be a JSON object, but this one starts with `[`");

    let err = error(br#"{"headline": "no id"}"#);
    assert_eq!(err.kind, ErrorKind::MissingField);
    assert_eq!(err.field.as_deref(), Some("uri"));

    let err = error(br#"{"uri": "x", "pubstatus": "draft"}"#);
    assert_eq!(err.kind, ErrorKind::InvalidField);
    assert_eq!(
        err.to_string(),
        "field `pubstatus`: unknown status \"draft\": expected usable, withheld or canceled"
    );

    let err = error(br#"{"uri": "x", "version": "1.2"}"#);
    assert_eq!(err.kind, ErrorKind::InvalidField);
    assert_eq!(err.field.as_deref(), Some("version"));
    assert!(err.message.contains("\"1.2\""), "{err}");
    assert_eq!(
        error(br#"{"uri": "x", "version": -1}"#).kind,
        ErrorKind::InvalidField
    );
    assert_eq!(
        error(br#"{"uri": "x", "urgency": 300}"#).field.as_deref(),
        Some("urgency")
    );
    assert_eq!(error(br#"{"uri": ["x"]}"#).field.as_deref(), Some("uri"));
    assert_eq!(
        error(br#"{"uri": "x", "headlines": {"value": "h"}}"#)
            .field
            .as_deref(),
        Some("headlines")
    );
    assert_eq!(
        error(br#"{"uri": "x", "subjects": [1]}"#).field.as_deref(),
        Some("subjects[0]")
    );
}

#[test]
fn version_as_number_and_bom() {
    let item = parse(
        b"\xEF\xBB\xBF{\"uri\": \"x\", \"version\": 7, \"urgency\": \"2\"}",
        &Context::new("t"),
    )
    .unwrap();
    assert_eq!(item.version, Some(7));
    assert_eq!(item.urgency, Some(2));
    assert_eq!(item.provider, "unknown");
}
