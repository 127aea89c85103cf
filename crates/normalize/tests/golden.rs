//! Golden tests, one per agency shape: the fixtures of wirestream-formats
//! through the production parser and the normaliser, pinning what is stored
//! (headline, byline, dateline, the first and last sentences of the body).

mod common;

use wirestream_formats::{parse_document, Context, Hint};
use wirestream_model::Article;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../formats/tests/fixtures/");

// The table is shared with the end-to-end test (tests/e2e/formats_golden.rs),
// which checks the same values on the stored rows.
include!("common/golden_table.rs");

fn articles(name: &str) -> Vec<Article> {
    let bytes = std::fs::read(format!("{FIXTURES}{name}")).unwrap();
    let mut ctx = Context::new("test");
    ctx.received_at = common::received_at();
    parse_document(&bytes, Hint::Auto, &ctx)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .iter()
        .map(|raw| wirestream_normalize::normalize(raw, common::received_at()).unwrap())
        .collect()
}

fn check(name: &str, index: usize, golden: &Golden) {
    let articles = articles(name);
    let article = &articles[index];
    let what = format!("{name} #{index}");
    assert_eq!(article.headline, golden.headline, "{what}");
    assert_eq!(article.byline.as_deref(), golden.byline, "{what}");
    assert_eq!(article.dateline.as_deref(), golden.dateline, "{what}");
    assert!(
        article.body.starts_with(golden.first),
        "{what}: the body starts {:?}",
        article.body
    );
    assert!(
        article.body.ends_with(golden.last),
        "{what}: the body ends {:?}",
        article.body
    );
    // Each block on a line of its own, nothing glued, no markup or CSS.
    for line in article.body.lines().filter(|l| !l.is_empty()) {
        assert!(!line.contains(['<', '>', '{', '}']), "{what}: {line:?}");
    }
}

#[test]
fn every_agency_shape_stores_its_story() {
    for (name, index, golden) in GOLDEN {
        check(name, *index, golden);
    }
}

#[test]
fn a_wrong_charset_declaration_is_a_warning_on_the_article() {
    let article = &articles("rss-declared-latin1.xml")[0];
    assert!(
        article.warnings[0].contains("windows-1252") && article.warnings[0].contains("UTF-8"),
        "{:?}",
        article.warnings
    );
}

#[test]
fn the_seed_sign_off_names_its_author() {
    let article = wirestream_normalize::normalize(&common::seed(), common::received_at()).unwrap();
    assert_eq!(article.byline.as_deref(), Some("Demetri Sébastopulo"));
    assert!(!article.body.contains("Suivre"), "{}", article.body);
}
