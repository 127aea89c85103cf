//! Articles for the dedup ledger's tests.

use chrono::{TimeZone, Utc};
use wirestream_model::{fixtures, Article};

/// A distinct story per `n` (its words carry the number), dated `day` of
/// March 1987.
pub fn story(n: usize, day: u32) -> Article {
    let body = format!(
        "Company{n} said its board approved plan{n} to buy back shares{n} and raise capital{n} \
         for expansion{n} of the plant{n} in the region{n} over the next year{n}."
    );
    let mut a = fixtures::article(&format!("story-{n}"), &format!("STORY {n}"), &body);
    a.content_hash = wirestream_normalize::content_hash(&a.headline, &body);
    a.tickers.clear();
    a.versioncreated = Utc.with_ymd_and_hms(1987, 3, day, 12, 0, 0).single();
    a
}

/// `article` with a sentence added, as the item `uri`: a near copy of it.
pub fn near_copy(article: &Article, uri: &str) -> Article {
    let mut copy = article.clone();
    copy.uri = uri.into();
    copy.body.push_str(" It gave no details.");
    copy.content_hash = wirestream_normalize::content_hash(&copy.headline, &copy.body);
    copy
}
