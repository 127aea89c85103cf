//! The whole Reuters-21578 corpus (18,000 ninjs lines) through `parse_ndjson`.

use wirestream_formats::{parse_document, parse_ndjson, Context, ErrorKind, Hint};
use wirestream_model::{BodyKind, Format, PubStatus};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/reuters21578.ndjson"
);

#[test]
fn parses_the_whole_reuters_corpus() {
    let bytes = std::fs::read(CORPUS).expect("the shared corpus");
    let ctx = Context::new("cli");
    let started = std::time::Instant::now();
    let results = parse_ndjson(&bytes, &ctx);
    eprintln!("parsed {} lines in {:?}", results.len(), started.elapsed());
    let errors: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(results.len(), 18_000);

    let first = results[0].as_ref().unwrap();
    assert_eq!(first.uri, "urn:reuters21578:1");
    assert_eq!(first.version, Some(1));
    assert_eq!(first.headline, "BAHIA COCOA REVIEW");
    assert_eq!(first.provider, "reuters");
    assert_eq!(first.format, Format::Ninjs);
    assert_eq!(first.pubstatus, PubStatus::Usable);
    assert_eq!(
        first.versioncreated.as_deref(),
        Some("1987-02-26T15:01:01Z")
    );
    assert!(first
        .subjects
        .iter()
        .any(|s| s.name.as_deref() == Some("cocoa")));
    let places: Vec<_> = first
        .places
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(places, ["el-salvador", "usa", "uruguay"]);
    assert!(first
        .ednote
        .as_deref()
        .unwrap()
        .contains("BC-BAHIA-COCOA-REVIEW"));
    let body = first.body.as_ref().unwrap();
    assert_eq!(body.kind, BodyKind::Text);
    assert!(body
        .value
        .starts_with("SALVADOR, Feb 26 - Showers continued"));
    assert_eq!(first.source, "cli");
    assert_eq!(
        first.original.to_bytes(),
        bytes.split(|b| *b == b'\n').next().unwrap()
    );
}

#[test]
fn ndjson_errors_name_their_line() {
    let batch = b"{\"uri\": \"a\"}\n\n{\"uri\": \"b\" \"x\": 1}\r\n{\"uri\": \"c\"}\n";
    let results = parse_ndjson(batch, &Context::new("cli"));
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().uri, "a");
    assert_eq!(results[2].as_ref().unwrap().uri, "c");
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidJson);
    assert_eq!(
        err.to_string(),
        "line 3, column 13 (byte 26): expected `,` or `}`"
    );

    // Sent as one document, the batch fails on its first bad line.
    let err = parse_document(batch, Hint::Ndjson, &Context::new("cli")).unwrap_err();
    assert_eq!(err.location.unwrap().line, Some(3));
}

#[test]
fn documents_dispatch_on_hint_and_bytes() {
    let ctx = Context::new("http:test");
    let items = parse_document(
        b"{\"uri\": \"urn:x\", \"headline\": \"H\"}",
        Hint::Auto,
        &ctx,
    )
    .unwrap();
    assert_eq!(items[0].format, Format::Ninjs);
    let items = parse_document(
        "Titre\nCorps".as_bytes(),
        Hint::from_content_type("text/plain").unwrap(),
        &ctx,
    )
    .unwrap();
    assert_eq!(items[0].headline, "Titre");
    let latin1 = Hint::from_content_type("text/plain; charset=windows-1252").unwrap();
    let items = parse_document(b"Caf\xE9\ncorps", latin1, &ctx).unwrap();
    assert_eq!(items[0].headline, "Café");
    assert_eq!(
        parse_document(b"", Hint::Auto, &ctx).unwrap_err().kind,
        ErrorKind::Empty
    );
}
