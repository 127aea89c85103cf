use super::*;

fn ctx() -> Context {
    Context::new("t")
}

#[test]
fn tells_the_formats_apart() {
    assert_eq!(
        format(b"\x16\x16\x01a0412  r f BC-X 04-02 0412\r\n\x02"),
        Some(Format::Anpa1312)
    );
    assert_eq!(
        format(b"\x01NWS0231 3 ECO 0250\r\n\x02"),
        Some(Format::Iptc7901)
    );
    assert_eq!(
        format(b"\x01NWS 0231 3 ECO 0250\x02"),
        Some(Format::Iptc7901)
    );
    assert_eq!(format(b"plain text"), None);
    // SOH without STX is not a wire header.
    assert_eq!(format(b"\x01no header end"), None);
}

#[test]
fn markers_give_versions_and_takes() {
    assert_eq!(version_of("1stLd-Writethru"), Some(2));
    assert_eq!(version_of("2ndLd"), Some(3));
    assert_eq!(version_of("Writethru"), Some(2));
    assert_eq!(version_of("UPDATE 2"), Some(3));
    assert_eq!(version_of("Advisory"), None);
    assert_eq!(take_of("2ndTake"), Some(2));
    assert_eq!(take_of("TAKE 3"), Some(3));
    assert_eq!(take_of("UPDATE 1"), None);
}

#[test]
fn stamps_become_times() {
    assert_eq!(
        anpa_time("AP-NY-04-02-24 1432EDT").as_deref(),
        Some("2024-04-02T14:32:00-04:00")
    );
    assert_eq!(
        anpa_time("AP-NY-04-02-94 0220EST").as_deref(),
        Some("1994-04-02T02:20:00-05:00")
    );
    assert_eq!(anpa_time("garbage"), None);
    assert_eq!(
        iptc7901_time("is/kb\r\n021015 GMT APR 24\r\nNNNN").as_deref(),
        Some("2024-04-02T10:15:00+00:00")
    );
}

#[test]
fn takes_of_one_story_get_their_own_ids() {
    let one = b"\x01a0001 r a BC-Budget 1stTake 04-02 0100\x02^Budget talks<\r\n   Text one.<\r\n\x03AP-NY-04-02-24 1000EDT\x04";
    let two = b"\x01a0002 r a BC-Budget 2ndTake 04-02 0100\x02^Budget talks<\r\n   Text two.<\r\n\x03AP-NY-04-02-24 1005EDT\x04";
    let a = parse(one, None, &ctx()).unwrap().remove(0);
    let b = parse(two, None, &ctx()).unwrap().remove(0);
    assert_eq!(a.uri, "urn:wirestream:anpa-1312:ap:bc-budget:2024-04-02");
    assert_eq!(
        b.uri,
        "urn:wirestream:anpa-1312:ap:bc-budget:2024-04-02:take2"
    );
    assert_eq!(a.headline, "Budget talks");
    assert_eq!(a.body.unwrap().value, "Text one.");
}

#[test]
fn latin1_wire_text_is_read_with_a_warning() {
    let bytes =
        b"\x01NWS0001 4 KUL 0010\x02KULTUR\r\nCaf\xE9 reopens\r\n   The caf\xE9 is open.\r\n\x03";
    let item = parse(bytes, None, &ctx()).unwrap().remove(0);
    assert_eq!(item.headline, "Café reopens");
    assert_eq!(item.warnings.len(), 1);
    // A message without STX is refused, with where.
    let err = parse(b"\x01NWS0001 4 KUL 0010 no text", None, &ctx()).unwrap_err();
    assert!(err.message.contains("no STX"), "{err}");
}
