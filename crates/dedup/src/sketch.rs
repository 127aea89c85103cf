//! What the index keeps of an article to verify a candidate: bottom-k
//! samples of its shingle and number digests, its headline words and its
//! tickers. Bounded: at most `4 * (sketch_shingles + sketch_numbers + 16 + 8)
//! + 22` bytes encoded (758 with the defaults).

use wirestream_model::Article;
use wirestream_normalize::matching_form;

use crate::config::DedupConfig;
use crate::{hash, minhash, shingle};

const HEADLINE_WORDS: usize = 16;
const TICKERS: usize = 8;
const FORMAT: u8 = 1;

/// The verification sketch of one article.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sketch {
    /// The smallest distinct shingle digests, ascending.
    pub shingles: Vec<u32>,
    /// Distinct shingles in the whole body (more than `shingles.len()` when
    /// the sample is full).
    pub shingle_count: u32,
    /// The smallest distinct digests of the body's numbers, ascending.
    pub numbers: Vec<u32>,
    pub number_count: u32,
    /// Digests of the headline's words, ascending; the first word's apart.
    pub headline: Vec<u32>,
    pub headline_first: Option<u32>,
    /// Digests of the tickers, ascending.
    pub tickers: Vec<u32>,
}

/// A sketch and the LSH keys to index it under.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    pub sketch: Sketch,
    pub keys: Vec<u64>,
}

/// Fingerprints an article's body (headline-only items get no keys: exact
/// matching covers flashes).
pub fn fingerprint(article: &Article, config: &DedupConfig) -> Fingerprint {
    let mut word_hashes = Vec::with_capacity(article.body.len() / 5);
    let mut numbers = Vec::new();
    for_each_word(&article.body, |word, h| {
        word_hashes.push(h);
        if shingle::is_number(word) {
            numbers.push(hash::digest(h));
        }
    });
    let shingles = shingle::shingles(&word_hashes, config.shingle_words);
    let (shingle_digests, shingle_count) = bottom_k(
        shingles.iter().map(|&s| hash::digest(s)).collect(),
        config.sketch_shingles,
    );
    let (numbers, number_count) = bottom_k(numbers, config.sketch_numbers);

    let mut headline_words = Vec::new();
    for_each_word(&article.headline, |_, h| {
        headline_words.push(hash::digest(h))
    });
    let headline_first = headline_words.first().copied();
    let (headline, _) = bottom_k(headline_words, HEADLINE_WORDS);
    let (tickers, _) = bottom_k(
        article
            .tickers
            .iter()
            .map(|t| hash::digest(hash::bytes(ticker_base(t).as_bytes())))
            .collect(),
        TICKERS,
    );

    let mut keys = Vec::new();
    if !shingles.is_empty() {
        // Repeats need no removing: each bin keeps a minimum, and a repeat
        // cannot lower it (the copy and sort that removed them were about
        // 2% of a normalise + dedup profile).
        let signature = minhash::signature(&shingles, config.bands * config.rows);
        keys.extend(minhash::band_keys(&signature, config.rows));
        keys.extend(minhash::lead_key(&shingles, config.lead_shingles));
    }
    Fingerprint {
        sketch: Sketch {
            shingles: shingle_digests,
            shingle_count,
            numbers,
            number_count,
            headline,
            headline_first,
            tickers,
        },
        keys,
    }
}

/// A ticker without its exchange suffix, lower-cased: `PARC.O` and `PARC`
/// are one company (Reuters-21578 re-sends PARK COMMUNICATIONS under both).
pub(crate) fn ticker_base(ticker: &str) -> String {
    let base = ticker.split('.').next().unwrap_or(ticker);
    base.trim().to_ascii_lowercase()
}

/// Calls `f` with each word of the text's matching form and the word's hash.
///
/// For ASCII text the matching form only lower-cases and collapses
/// whitespace, which moves no word boundary: the words are read from the
/// text itself and lower-cased as they are hashed, saving a copy of every
/// body (the content hash has already built one).
fn for_each_word(text: &str, mut f: impl FnMut(&str, u64)) {
    if text.is_ascii() {
        for word in shingle::words(text) {
            f(word, hash::bytes_lower(word.as_bytes()));
        }
    } else {
        let form = matching_form(text);
        for word in shingle::words(&form) {
            f(word, hash::bytes(word.as_bytes()));
        }
    }
}

/// Sorts, removes repeats and keeps the `k` smallest; returns them and how
/// many distinct values there were.
fn bottom_k(mut values: Vec<u32>, k: usize) -> (Vec<u32>, u32) {
    values.sort_unstable();
    values.dedup();
    let count = values.len() as u32;
    values.truncate(k);
    // The sketch is kept for the horizon: hold only what it keeps.
    values.shrink_to_fit();
    (values, count)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid dedup sketch: {0}")]
pub struct SketchError(&'static str);

impl Sketch {
    /// A compact little-endian encoding, for `dedup_sketches.sketch`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let lists = [&self.shingles, &self.numbers, &self.headline, &self.tickers];
        let mut out = Vec::with_capacity(16 + 4 * lists.iter().map(|l| l.len()).sum::<usize>());
        out.push(FORMAT);
        out.push(u8::from(self.headline_first.is_some()));
        out.extend_from_slice(&self.shingle_count.to_le_bytes());
        out.extend_from_slice(&self.number_count.to_le_bytes());
        out.extend_from_slice(&self.headline_first.unwrap_or(0).to_le_bytes());
        for list in lists {
            // Lists are bounded by the config (and u16 by this format).
            out.extend_from_slice(&(list.len().min(u16::MAX as usize) as u16).to_le_bytes());
            for v in list.iter().take(u16::MAX as usize) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Sketch, SketchError> {
        let mut reader = Reader(bytes);
        if reader.u8()? != FORMAT {
            return Err(SketchError("unknown format"));
        }
        let has_first = reader.u8()? == 1;
        let shingle_count = reader.u32()?;
        let number_count = reader.u32()?;
        let first = reader.u32()?;
        let shingles = reader.list()?;
        let numbers = reader.list()?;
        let headline = reader.list()?;
        let tickers = reader.list()?;
        if !reader.0.is_empty() {
            return Err(SketchError("trailing bytes"));
        }
        Ok(Sketch {
            shingles,
            shingle_count,
            numbers,
            number_count,
            headline,
            headline_first: has_first.then_some(first),
            tickers,
        })
    }

    /// Bytes this sketch takes in memory (the vectors' contents).
    pub fn heap_bytes(&self) -> usize {
        4 * (self.shingles.capacity()
            + self.numbers.capacity()
            + self.headline.capacity()
            + self.tickers.capacity())
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SketchError> {
        let (head, rest) = self.0.split_at_checked(N).ok_or(SketchError("truncated"))?;
        self.0 = rest;
        head.try_into().map_err(|_| SketchError("truncated"))
    }
    fn u8(&mut self) -> Result<u8, SketchError> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, SketchError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn list(&mut self) -> Result<Vec<u32>, SketchError> {
        let n = u16::from_le_bytes(self.take()?) as usize;
        (0..n).map(|_| self.u32()).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use wirestream_model::{fixtures, Article};

    use super::*;

    pub(crate) fn article(uri: &str, headline: &str, body: &str) -> Article {
        let mut a = fixtures::article(uri, headline, body);
        a.content_hash = wirestream_normalize::content_hash(headline, body);
        a.versioncreated = None;
        a.received_at = Utc::now();
        a
    }

    #[test]
    fn sketch_round_trips_and_is_bounded() {
        // Reuters-21578 #2.
        let a = article(
            "urn:reuters21578:2",
            "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT",
            "Standard Oil Co and BP North America Inc said they plan to form a venture to manage the money market borrowing and investment activities of both companies.",
        );
        let config = DedupConfig::default();
        let fp = fingerprint(&a, &config);
        assert_eq!(fp.keys.len(), config.bands + 1);
        assert_eq!(fp.sketch.shingle_count as usize, fp.sketch.shingles.len());
        assert_eq!(
            Sketch::from_bytes(&fp.sketch.to_bytes()),
            Ok(fp.sketch.clone())
        );
        assert!(Sketch::from_bytes(&fp.sketch.to_bytes()[..7]).is_err());

        let long = article(
            "x",
            "H",
            &"word ".repeat(5000).replace("word word", "word 7 word"),
        );
        let sketch = fingerprint(&long, &config).sketch;
        assert!(sketch.to_bytes().len() <= 4 * (128 + 32 + 16 + 8) + 16 + 8);
    }
}
