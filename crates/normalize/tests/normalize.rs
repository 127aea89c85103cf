//! Acceptance tests on real copy: the French seed article, the Reuters-21578
//! corpus and the ninjs examples.

mod common;

use common::{raw_from_ninjs, received_at, reuters, seed, shared};
use wirestream_model::{Body, BodyKind, LanguageSource, PubStatus, Verdict};
use wirestream_normalize::{content_hash, matching_form, normalize, NormalizeError};

fn blank_body(raw: &wirestream_model::RawItem) -> bool {
    match &raw.body {
        Some(body) => body.value.trim().is_empty(),
        None => true,
    }
}

fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn seed_article_keeps_its_typography_and_loses_its_trailers() {
    let article = normalize(&seed(), received_at()).expect("the seed normalises");
    assert_eq!(
        article.headline,
        "Les États-Unis affirment que la Russie a demandé l’aide militaire de la Chine pour l’invasion de l’Ukraine"
    );
    assert_eq!(article.language.as_deref(), Some("fr"));
    assert_eq!(article.language_source, Some(LanguageSource::Detected));
    assert!(article.language_confidence.is_some_and(|c| c > 0.9));
    // The no-break spaces inside the guillemets are kept, as sent.
    assert!(
        article.body.ends_with(
            "comme n’ayant «\u{a0}pas de limites\u{a0}», dans un autre signe que les deux capitales se rapprochent encore plus."
        ),
        "{}",
        article.body
    );
    assert!(article
        .body
        .starts_with("La Russie a demandé à la Chine du matériel militaire"));
    assert!(!article.body.contains("Twitter"));
    assert!(!article.body.contains("ttn-fr-56"));
    assert_eq!(article.tags, ["ttn-fr-56"]);
    assert_eq!(article.body.split("\n\n").count(), 11);
    assert!(!article.body.contains("\n\n\n"));
    assert_eq!(article.verdict, Verdict::New);
    assert_eq!(article.version, 1);
    assert!(article.warnings.is_empty(), "{:?}", article.warnings);
    assert_eq!(
        article.content_hash,
        content_hash(&article.headline, &article.body)
    );
}

#[test]
fn reuters_item_1_bahia_cocoa_review() {
    let items = reuters();
    let raw = &items[0];
    assert_eq!(raw.headline, "BAHIA COCOA REVIEW");
    let article = normalize(raw, received_at()).expect("item 1 normalises");
    assert_eq!(article.headline, "BAHIA COCOA REVIEW");
    assert_eq!(article.dateline.as_deref(), Some("SALVADOR, Feb 26"));
    assert!(article
        .body
        .starts_with("Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January"));
    assert!(
        !article.body.trim_end().ends_with("Reuter"),
        "{}",
        article.body
    );
    assert!(
        article
            .body
            .ends_with("after carnival which ends midday on February 27."),
        "{}",
        article.body
    );
    assert!(!has_controls(&article.body));
    // Wrapped lines are joined: every newline is a paragraph break.
    assert!(article
        .body
        .split("\n\n")
        .all(|paragraph| !paragraph.contains('\n')));
    assert!(article.body.contains(
        "The dry period means the temporao will be late this year.\n\nArrivals for the week"
    ));
    assert_eq!(article.language.as_deref(), Some("en"));
    assert_eq!(article.language_source, Some(LanguageSource::Detected));
    assert_eq!(
        article.versioncreated.map(|d| d.to_rfc3339()).as_deref(),
        Some("1987-02-26T15:01:01+00:00")
    );
    assert_eq!(article.copyright.as_deref(), Some("Reuters"));
    assert_eq!(article.places.len(), 3);
    assert!(article.word_count > 400, "{}", article.word_count);
}

#[test]
fn reuters_headline_ticker_is_lifted() {
    let items = reuters();
    let raw = items
        .iter()
        .find(|raw| raw.headline == "TALKING POINT/BANKAMERICA &lt;BAC> EQUITY OFFER")
        .expect("the BankAmerica item is in the corpus");
    let article = normalize(raw, received_at()).expect("normalises");
    assert_eq!(article.headline, "TALKING POINT/BANKAMERICA EQUITY OFFER");
    assert_eq!(article.tickers, ["BAC"]);
}

#[test]
fn service_prefixes_are_stripped_from_headlines() {
    let mut raw = seed();
    for (sent, expected) in [
        ("REFILE-Oil prices rise &lt;XON>", "Oil prices rise"),
        ("UPDATE 1-Oil prices rise", "Oil prices rise"),
        (
            "CORRECTED - MELLON &lt;MEL> UNIT'S NOTES",
            "MELLON UNIT'S NOTES",
        ),
    ] {
        raw.headline = sent.to_owned();
        let article = normalize(&raw, received_at()).expect("normalises");
        assert_eq!(article.headline, expected);
    }
}

#[test]
fn garbled_reuters_date_becomes_a_warning() {
    let items = reuters();
    let raw = items
        .iter()
        .find(|raw| raw.versioncreated.as_deref() == Some("31-MAR-1987 605:12:19.12"))
        .expect("the garbled item is in the corpus");
    let article = normalize(raw, received_at()).expect("a bad date never costs the item");
    assert_eq!(article.versioncreated, None);
    assert!(
        article
            .warnings
            .contains(&r#"unparseable versioncreated: "31-MAR-1987 605:12:19.12""#.to_owned()),
        "{:?}",
        article.warnings
    );

    let mut raw = raw.clone();
    raw.versioncreated = Some("26-FEB-1987 15:01:01.79".to_owned());
    let article = normalize(&raw, received_at()).expect("normalises");
    assert_eq!(
        article.versioncreated.map(|d| d.to_rfc3339()).as_deref(),
        Some("1987-02-26T15:01:01.790+00:00")
    );
}

#[test]
fn whole_reuters_corpus_normalises() {
    let items = reuters();
    assert_eq!(items.len(), 18_000);
    let blank = items
        .iter()
        .filter(|raw| raw.headline.trim().is_empty() && blank_body(raw))
        .count();
    assert_eq!(blank, 720);

    let mut empty = 0;
    let mut datelines = 0;
    let mut english = 0;
    let mut undetected = 0;
    let mut tickers = 0;
    for raw in &items {
        match normalize(raw, received_at()) {
            Err(NormalizeError::Empty) => empty += 1,
            Err(error) => panic!("{}: {error}", raw.uri),
            Ok(article) => {
                assert!(!has_controls(&article.body), "{}", article.uri);
                assert!(!has_controls(&article.headline), "{}", article.uri);
                assert!(
                    !article.body.contains("&lt;") && !article.body.contains("&#"),
                    "{}",
                    article.uri
                );
                let tail = article.body.rsplit("\n\n").next().unwrap_or("");
                assert!(
                    !tail.eq_ignore_ascii_case("reuter"),
                    "{}: {tail}",
                    article.uri
                );
                assert_eq!(article.body.trim(), article.body, "{}", article.uri);
                assert!(!article.body.contains("\n\n\n"), "{}", article.uri);
                datelines += usize::from(article.dateline.is_some());
                english += usize::from(article.language.as_deref() == Some("en"));
                if article.language.is_none() {
                    undetected += 1;
                    assert!(
                        article
                            .warnings
                            .iter()
                            .any(|w| w.starts_with("language not detected")),
                        "{}",
                        article.uri
                    );
                }
                tickers += usize::from(!article.tickers.is_empty());
            }
        }
    }
    eprintln!("corpus: {empty} empty, {datelines} datelines, {english} en, {undetected} undetected, {tickers} with tickers");
    assert_eq!(empty, blank);
    // Nearly every Reuters story opens with a dateline. All are English; the
    // rest are results tables and headline-only flashes, left undetected.
    let articles = items.len() - empty;
    assert!(datelines * 100 > articles * 90, "{datelines} of {articles}");
    assert!(english * 100 > articles * 80, "{english} of {articles}");
    assert!(
        (english + undetected) * 100 > articles * 98,
        "{english} + {undetected} of {articles}"
    );
}

#[test]
fn dpa_html_body_becomes_paragraphs_and_keeps_the_byline() {
    let raw = raw_from_ninjs("dpa", &shared("formats/ninjs/examples/dpa_text.json"));
    let article = normalize(&raw, received_at()).expect("normalises");
    assert_eq!(
        article.byline.as_deref(),
        Some("Von Christian Hollmann, dpa")
    );
    assert_eq!(
        article.headline,
        "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?"
    );
    assert!(article.body.starts_with(
        "Für Lucien Favre war es «der größte Skandal im Fußball seit Jahren». Der Trainer"
    ));
    assert!(article
        .body
        .contains("für die Gäste auf.\n\nAuf Hinweis seines Video-Assistenten Guido Winkmann"));
    assert!(article
        .body
        .ends_with("zu Diskussionen um die richtige Auslegung der Bestimmungen kommen."));
    assert!(!article.body.contains('<'));
    assert_eq!(article.language.as_deref(), Some("de"));
    assert_eq!(article.language_source, Some(LanguageSource::Declared));
    assert_eq!(article.language_confidence, Some(1.0));
    assert_eq!(article.version, 2);
    assert_eq!(article.urgency, Some(4));
    assert_eq!(
        article.versioncreated.map(|d| d.to_rfc3339()).as_deref(),
        Some("2019-05-10T14:02:28+00:00")
    );
}

#[test]
fn ap_dateline_is_lifted_from_text_and_html_bodies() {
    let json = shared("formats/ninjs/examples/ninjsExSimpleText_2.json");
    let raw = raw_from_ninjs("ap", &json);
    let article = normalize(&raw, received_at()).expect("normalises");
    assert_eq!(article.dateline.as_deref(), Some("GROSSETO, Italy (AP)"));
    assert!(article.body.starts_with("The trial of the captain"));
    assert_eq!(
        article.byline.as_deref(),
        Some("Paulo Santalucia and Frances d'Emilio")
    );
    assert_eq!(article.language.as_deref(), Some("en"));

    let mut html = raw.clone();
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    html.body = Some(Body {
        kind: BodyKind::Html,
        value: value["bodies"][1]["value"]
            .as_str()
            .expect("an html body")
            .to_owned(),
    });
    let from_html = normalize(&html, received_at()).expect("normalises");
    assert_eq!(from_html.dateline, article.dateline);
    assert_eq!(from_html.body.split("\n\n").count(), 4);
    assert!(from_html.body.starts_with("The trial of the captain"));
    // Same words, other paragraphing: the matching forms differ only there.
    assert_eq!(from_html.word_count, article.word_count);
}

#[test]
fn every_ninjs_example_normalises() {
    for (file, language) in [
        ("ap_image.json", "en"),
        ("businesswire-newsml-20130605006126.json", "zh"),
        ("dpa_text.json", "de"),
        ("ntb_text.json", "nb"),
        ("tt_text_image_2.json", "sv"),
    ] {
        let raw = raw_from_ninjs(
            "example",
            &shared(&format!("formats/ninjs/examples/{file}")),
        );
        let article =
            normalize(&raw, received_at()).unwrap_or_else(|error| panic!("{file}: {error}"));
        assert_eq!(article.language.as_deref(), Some(language), "{file}");
        assert!(!has_controls(&article.body), "{file}");
    }
}

#[test]
fn errors_and_verdicts() {
    let mut raw = seed();
    raw.uri = "  ".to_owned();
    assert_eq!(
        normalize(&raw, received_at()),
        Err(NormalizeError::MissingId)
    );
    assert_eq!(NormalizeError::MissingId.reason(), "missing_id");

    let mut raw = seed();
    raw.headline = " &#3; ".to_owned();
    raw.body = Some(Body {
        kind: BodyKind::Html,
        value: "<p> </p><script>x()</script>".to_owned(),
    });
    assert_eq!(normalize(&raw, received_at()), Err(NormalizeError::Empty));
    assert_eq!(NormalizeError::Empty.reason(), "empty_article");

    let mut raw = seed();
    raw.pubstatus = PubStatus::Canceled;
    raw.version = Some(3);
    let article = normalize(&raw, received_at()).expect("normalises");
    assert_eq!(article.verdict, Verdict::Kill);
    assert_eq!(article.version, 3);
    assert_eq!(article.duplicate_of, None);
    assert_eq!(article.similarity, None);
}

#[test]
fn description_stands_in_for_a_missing_body() {
    let mut raw = seed();
    raw.body = None;
    raw.description =
        Some("<p>Oil prices rose on Monday after OPEC agreed to cut output again.</p>".to_owned());
    raw.language = Some("en-GB".to_owned());
    let article = normalize(&raw, received_at()).expect("normalises");
    assert_eq!(
        article.body,
        "Oil prices rose on Monday after OPEC agreed to cut output again."
    );
    assert_eq!(article.language.as_deref(), Some("en"));
}

#[test]
fn matching_form_folds_what_the_stored_text_keeps() {
    assert_eq!(
        matching_form("  Les États-Unis  affirment: «\u{a0}l’aide\u{a0}» — “OK”\n\n"),
        "les états-unis affirment: \" l'aide \" - \"ok\""
    );
    assert_eq!(matching_form("BAHIA COCOA REVIEW"), "bahia cocoa review");
    // NFKC: full-width letters and ligatures.
    assert_eq!(matching_form("ＡＢＣ ﬁnance"), "abc finance");
    assert_eq!(matching_form(""), "");
}

#[test]
fn content_hash_ignores_the_headline_when_there_is_a_body() {
    let body = "Showers continued throughout the week.";
    let hash = content_hash("BAHIA COCOA REVIEW", body);
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(hash, content_hash("REFILE-BAHIA COCOA REVIEW", body));
    assert_eq!(
        hash,
        content_hash("x", "  SHOWERS continued   throughout the week.")
    );
    assert_ne!(
        hash,
        content_hash("x", "Showers continued throughout the month.")
    );
    // A headline-only item hashes its headline, never like a body.
    assert_ne!(content_hash("Flash", ""), content_hash("", "Flash"));
    assert_eq!(
        content_hash("Quake hits Japan", ""),
        content_hash("QUAKE  HITS JAPAN", " ")
    );
}
