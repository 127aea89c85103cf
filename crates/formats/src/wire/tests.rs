use super::*;
use wirestream_model::Original;

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
    // The telex start signal before the header changes nothing.
    assert_eq!(
        format(b"\x01ZCZC\r\nAFP0123 3 POL 0345\r\n\x02"),
        Some(Format::Iptc7901)
    );
    assert_eq!(format(b"plain text"), None);
    // SOH without STX is not a wire header, nor binary between them.
    assert_eq!(format(b"\x01no header end"), None);
    assert_eq!(format(b"\x00\x01\x02\xff\xfe"), None);
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
    let time = |t: &str| Stamp::Time(t.to_owned());
    assert_eq!(
        anpa_time("AP-NY-04-02-24 1432EDT"),
        time("2024-04-02T14:32:00-04:00")
    );
    assert_eq!(
        anpa_time("AP-NY-04-02-94 0220EST"),
        time("1994-04-02T02:20:00-05:00")
    );
    assert_eq!(anpa_time("garbage"), Stamp::Absent);
    assert_eq!(
        iptc7901_time("is/kb\r\n021015 GMT APR 24\r\nNNNN"),
        time("2024-04-02T10:15:00+00:00")
    );
    // European agencies' zones, German ones included.
    assert_eq!(
        iptc7901_time("051430 CET JAN 24"),
        time("2024-01-05T14:30:00+01:00")
    );
    assert_eq!(
        iptc7901_time("051430 MESZ JUL 24"),
        time("2024-07-05T14:30:00+02:00")
    );
    // A stamp that cannot be read says why, rather than vanishing.
    assert!(matches!(
        iptc7901_time("051430 XYZ JAN 24"),
        Stamp::Unreadable(why) if why.contains("unknown time zone \"XYZ\"")
    ));
    assert!(matches!(
        iptc7901_time("321430 GMT FEB 24"),
        Stamp::Unreadable(why) if why.contains("2024-02-32T14:30:00 is not a date")
    ));
    assert!(matches!(
        anpa_time("AP-NY-02-30-24 1000EDT"),
        Stamp::Unreadable(_)
    ));
}

#[test]
fn a_telex_start_signal_is_not_the_source() {
    let bytes = b"\x01ZCZC\r\nAFP0123 3 POL 0345\r\n\x02POLITIQUE-FRANCE\r\nLe budget\r\n   PARIS, 5 jan (AFP) - Le texte.\r\n\x03\r\n051430 GMT JAN 24\r\nNNNN\x04";
    let item = parse(bytes, None, &ctx()).unwrap().remove(0);
    assert_eq!(item.format, Format::Iptc7901);
    assert_eq!(item.provider, "afp");
    assert_eq!(item.urgency, Some(3));
    assert_eq!(
        item.uri,
        "urn:wirestream:iptc-7901:afp:politique-france:2024-01-05"
    );
}

#[test]
fn an_unreadable_stamp_is_a_warning_on_the_item() {
    let bytes = b"\x01NWS0001 4 POL 0010\x02WAHL\r\nWahl in Berlin\r\n   Der Text.\r\n\x03\r\n321430 GMT FEB 24\r\n\x04";
    let item = parse(bytes, None, &ctx()).unwrap().remove(0);
    assert_eq!(item.versioncreated, None);
    assert!(
        item.warnings
            .iter()
            .any(|w| w.starts_with("the trailer's send time was not read")),
        "{:?}",
        item.warnings
    );
}

#[test]
fn line_fill_before_the_first_soh_is_skipped() {
    let two = b"\x01a0001 r a BC-One 04-02 0100\x02^One<\r\n   Text one.<\r\n\x03AP-NY-04-02-24 1000EDT\x04\x01a0002 r a BC-Two 04-02 0100\x02^Two<\r\n   Text two.<\r\n\x03AP-NY-04-02-24 1005EDT\x04";
    for fill in [&b"\0\0\0\0"[..], b"\x7f\x7f", b"\x16\x16\r\n"] {
        let bytes = [fill, &two[..]].concat();
        assert_eq!(format(&bytes), Some(Format::Anpa1312));
        let items = parse(&bytes, None, &ctx()).unwrap();
        let heads: Vec<&str> = items.iter().map(|i| i.headline.as_str()).collect();
        assert_eq!(heads, ["One", "Two"]);
    }
}

#[test]
fn every_line_ending_splits_lines() {
    for newline in ["\r\n", "\n", "\r", "\r\r\n"] {
        let text = [
            "^Budget talks<",
            "   WASHINGTON (AP) _ Talks went on.<",
            "They ended late.<",
            "   A second paragraph.<",
        ]
        .join(newline);
        let bytes = format!(
            "\x01a0001 r a BC-Budget 04-02 0100\x02{text}{newline}\x03AP-NY-04-02-24 1000EDT\x04"
        );
        let item = parse(bytes.as_bytes(), None, &ctx()).unwrap().remove(0);
        assert_eq!(item.headline, "Budget talks", "{newline:?}");
        assert_eq!(item.dateline.as_deref(), Some("WASHINGTON"), "{newline:?}");
        assert_eq!(
            item.body.unwrap().value,
            "Talks went on. They ended late.\n\nA second paragraph.",
            "{newline:?}"
        );
    }
}

#[test]
fn an_advance_line_is_a_note_not_the_headline() {
    let bytes = "\x01a0300 r i BC-Spain-Election Adv16 06-14 0350\x02^BC-Spain-Election,0350<\r\n^ADV for Release Sunday, June 16, 2024, at 00:01 EDT<\r\n^España vota<\r\n   MADRID (AP) _ Los ciudadanos votan hoy.<\r\n\x03AP-NY-06-14-24 1800EDT\x04";
    let item = parse(bytes.as_bytes(), None, &ctx()).unwrap().remove(0);
    assert_eq!(item.headline, "España vota");
    assert_eq!(item.embargoed.as_deref(), Some("2024-06-16T00:01:00-04:00"));
    assert_eq!(
        item.ednote.as_deref(),
        Some("Adv16; ADV for Release Sunday, June 16, 2024, at 00:01 EDT")
    );
    assert!(item.warnings.is_empty(), "{:?}", item.warnings);
    // A wording whose time is not read keeps the note and says so.
    let bytes = bytes.replace("Release Sunday, June 16, 2024, at 00:01 EDT", "Sunday AMs");
    let item = parse(bytes.as_bytes(), None, &ctx()).unwrap().remove(0);
    assert_eq!(item.headline, "España vota");
    assert_eq!(item.embargoed, None);
    assert_eq!(item.warnings.len(), 1, "{:?}", item.warnings);
    // An editors' note after the headline is a note too.
    let bytes = "\x01a0001 r p BC-Budget 1stLd-Writethru 03-05 0412\x02^BC-Budget, 1st Ld-Writethru,0412<\r\n^Budget passes<\r\n^Eds: UPDATES with vote count<\r\n^By JANE ROE=\r\n^Associated Press Writer=\r\n   WASHINGTON (AP) _ The budget passed.<\r\n\x03AP-NY-03-05-24 1000EST\x04";
    let item = parse(bytes.as_bytes(), None, &ctx()).unwrap().remove(0);
    assert_eq!(item.headline, "Budget passes");
    assert!(item.subheadlines.is_empty(), "{:?}", item.subheadlines);
    assert_eq!(
        item.ednote.as_deref(),
        Some("1stLd-Writethru; Eds: UPDATES with vote count")
    );
    assert_eq!(
        item.byline.as_deref(),
        Some("By JANE ROE, Associated Press Writer")
    );
    assert_eq!(
        release_time("Embargoed until June 16, 2024 6:00 p.m. EST").as_deref(),
        Some("2024-06-16T18:00:00-05:00")
    );
}

#[test]
fn a_message_that_lost_its_soh_is_refused_not_dropped() {
    let bytes = b"\x01a0001 r a BC-One 04-02 0100\x02^One<\r\n   Text one.<\r\n\x03AP-NY-04-02-24 1000EDT\x04\x02^Two<\r\n   Text two.<\r\n\x03AP-NY-04-02-24 1005EDT\x04";
    let err = parse(bytes, None, &ctx()).unwrap_err();
    assert!(
        err.message.contains("message 1: an STX follows its ETX"),
        "{err}"
    );
}

#[test]
fn each_message_is_decoded_on_its_own() {
    let mut bytes = b"\x01a0001 r i BC-Spain 06-15 0100\x02^Espa\xF1a vota<\r\n   Texto.<\r\n\x03AP-NY-06-15-24 0220EDT\x04".to_vec();
    bytes.extend_from_slice("\x01a0002 r i BC-France 06-15 0100\x02^Les électeurs français<\r\n   Texte.<\r\n\x03AP-NY-06-15-24 0221EDT\x04".as_bytes());
    let items = parse(&bytes, None, &ctx()).unwrap();
    assert_eq!(items[0].headline, "España vota");
    assert_eq!(items[0].warnings.len(), 1);
    assert_eq!(items[1].headline, "Les électeurs français");
    assert!(items[1].warnings.is_empty(), "{:?}", items[1].warnings);
    // Each keeps its own bytes as sent, not the whole transmission.
    let split = bytes.iter().rposition(|b| *b == SOH).unwrap_or_default();
    assert_eq!(items[0].original, Original::from_bytes(&bytes[..split]));
    assert_eq!(items[1].original, Original::from_bytes(&bytes[split..]));
}

#[test]
fn a_dateline_is_found_before_a_multibyte_character() {
    // Byte 120, where the search for the agency stops, falls inside `ç`
    // for one of the two paddings (it used to give no dateline at all).
    let mut straddled = false;
    for pad in ["", "a"] {
        let paragraph = format!("SAO PAULO (AP) _ {pad}{}", "ação ".repeat(40));
        straddled |= !paragraph.is_char_boundary(120);
        let (place, rest) = split_dateline(&paragraph).expect("dateline");
        assert_eq!(place, "SAO PAULO");
        assert!(rest.starts_with(&format!("{pad}ação")), "{rest}");
    }
    assert!(straddled);
    // Cut inside a character: the prefix stops before it.
    assert_eq!(prefix("aé", 2), "a");
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

#[test]
fn long_runs_of_line_ends_are_read_in_one_pass() {
    // 200,000 CRs with no LF after them: each used to be measured again
    // for every line it ended.
    let text = format!("a{}b\x0bc\x0cd", "\r".repeat(200_000));
    let read = lines(&text);
    assert_eq!(read.len(), 200_003);
    assert_eq!(read[0], "a");
    assert_eq!(&read[200_000..], ["b", "c", "d"]);
    assert_eq!(lines("x\r\r\r\ny\r\rz\n"), ["x", "y", "", "z"]);
    assert!(lines("").is_empty());
}

#[test]
fn vertical_tab_and_form_feed_separate_words() {
    let bytes = b"\x01a0001 r a BC-Port 04-02 0100\x02^Port<\r\n   The port closed.\x0bShips wait\x0coffshore.<\r\n\x03AP-NY-04-02-24 1000EDT\x04";
    let item = parse(bytes, None, &ctx()).unwrap().remove(0);
    assert_eq!(
        item.body.unwrap().value,
        "The port closed. Ships wait offshore."
    );
}

#[test]
fn an_embargo_headline_is_a_headline() {
    let bytes = b"\x01a0001 r i BC-Cuba 04-02 0100\x02^Embargo on Cuba to be eased, officials say<\r\n^By JANE ROE<\r\n   HAVANA (AP) _ Text.<\r\n\x03AP-NY-04-02-24 1000EDT\x04";
    let item = parse(bytes, None, &ctx()).unwrap().remove(0);
    assert_eq!(item.headline, "Embargo on Cuba to be eased, officials say");
    assert_eq!(item.ednote, None);
    assert!(item.warnings.is_empty(), "{:?}", item.warnings);
    assert!(is_release_note("Embargoed until 0001 GMT June 16"));
}

#[test]
fn a_stamp_may_write_its_year_in_full() {
    assert_eq!(
        anpa_time("AP-NY-06-15-2024 0220EDT"),
        Stamp::Time("2024-06-15T02:20:00-04:00".to_owned())
    );
    assert_eq!(anpa_time("AP-NY-06-15-224 0220EDT"), Stamp::Absent);
    // No reading of AST is the wire's: a warning, not a guess.
    assert!(matches!(
        anpa_time("AP-NY-06-15-24 0220AST"),
        Stamp::Unreadable(_)
    ));
}

#[test]
fn too_many_messages_are_refused_before_items_are_built() {
    let bytes = b"\x01a\x02x\x03".repeat(1_001);
    let err = parse(&bytes, None, &ctx()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooManyItems);
}
