//! A corpus for replay tests (feature `fixtures`): the same items, whoever
//! replays them (the memory ledger's tests here, `PgLedger`'s in
//! crates/store/tests).

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use wirestream_model::{fixtures, Article};

/// 400 items over 90 days (three horizons), nearly in time order: new
/// stories, exact re-sends, near copies (one word changed) and second
/// versions, each of a source up to 45 days older, so that some copies
/// fall past the horizon of their source and some within it.
pub fn replay_corpus() -> Vec<Article> {
    let base = Utc
        .with_ymd_and_hms(1987, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let body = |s: usize| -> Vec<String> { (0..25).map(|k| format!("w{}", s * 31 + k)).collect() };
    let mut items: Vec<Article> = (0..400)
        .map(|i: usize| {
            // A story item (i % 5 < 2) up to 200 items back.
            let source = (i.saturating_sub(1 + (i * 37) % 200) / 5) * 5;
            let (uri, version, words) = match i % 5 {
                0 | 1 => (format!("s{i}"), 1, body(i)),
                2 => (format!("copy{i}"), 1, body(source)),
                3 => {
                    let mut words = body(source);
                    words[12] = "changed".into();
                    (format!("near{i}"), 1, words)
                }
                _ => (format!("s{source}"), 2, body(i)),
            };
            let headline = if i % 5 == 3 {
                format!("STORY {source}")
            } else {
                format!("STORY {i}")
            };
            let text = words.join(" ");
            let mut a = fixtures::article(&uri, &headline, &text);
            a.version = version;
            a.tickers.clear();
            a.content_hash = wirestream_normalize::content_hash(&headline, &text);
            a.versioncreated = Some(base + Duration::minutes(324 * i as i64));
            a
        })
        .collect();
    // Not quite in time order.
    for i in (3..399).step_by(7) {
        items.swap(i, i + 1);
    }
    items
}

/// Days each repeat of [`late_repeats`] is shifted after the one before.
pub const REPEAT_SHIFT_DAYS: i64 = 10;

/// The replay corpus, then `repeats` copies of it under fresh ids (`r1-s5`,
/// `r1-copy7`…), each [`REPEAT_SHIFT_DAYS`] later than the one before: the
/// stream spans more than three horizons, and each repeat starts up to
/// three horizons behind the newest item decided before it, as the repeats
/// of the Reuters corpus in `make bench` do. A repeated item is an exact
/// copy of its first pass, when that is within its horizon and not deleted.
pub fn late_repeats(repeats: usize) -> Vec<Article> {
    let first = replay_corpus();
    let mut items = first.clone();
    for k in 1..=repeats {
        let shift = Duration::days(REPEAT_SHIFT_DAYS * k as i64);
        items.extend(first.iter().map(|a| {
            let mut a = a.clone();
            a.uri = format!("r{k}-{}", a.uri);
            a.versioncreated = a.versioncreated.map(|t| t + shift);
            a
        }));
    }
    items
}

/// The count of each verdict.
pub fn counts(items: &[Article]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for a in items {
        *counts.entry(a.verdict.as_str()).or_default() += 1;
    }
    counts
}
