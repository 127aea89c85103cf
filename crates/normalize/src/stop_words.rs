//! A fast first guess at the language, from function words.
//!
//! whatlang scores a text against hundreds of trigram profiles: about 40-80
//! µs per article, most of the cost of normalising. Most wire copy is in a
//! handful of languages whose commonest words tell them apart at once. When
//! those words settle it clearly, this guess is taken; otherwise (other
//! languages, mixed or short text) whatlang decides.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

/// Words frequent in one language and rare in the others (so not "a", "de",
/// "en", "la", "in", "die", "son" …), sorted. English includes the wire's
/// own abbreviations (`mln`, `dlrs`, `cts`, `pct`, `shr`, `revs`, `qtr`):
/// results tables are made of little else, and whatlang, slow and unsure on
/// them, used to read them as French.
const WORDS: &[(&str, &[&str])] = &[
    (
        "de",
        &[
            "auch", "auf", "aus", "bei", "dass", "dem", "den", "der", "des", "eine", "einem",
            "einen", "einer", "hat", "ist", "mit", "nach", "nicht", "noch", "sich", "sind", "und",
            "von", "vor", "wie", "wird", "zu", "zum", "zur",
        ],
    ),
    (
        "en",
        &[
            "after", "and", "are", "at", "be", "by", "cts", "dlrs", "for", "from", "had", "has",
            "have", "is", "it", "its", "mln", "of", "on", "pct", "qtr", "revs", "said", "shr",
            "shrs", "that", "the", "this", "to", "was", "were", "which", "will", "with", "would",
        ],
    ),
    (
        "es",
        &[
            "años", "como", "con", "del", "el", "está", "fue", "las", "los", "más", "para", "pero",
            "por", "se", "su", "sus", "una", "y",
        ],
    ),
    (
        "fr",
        &[
            "au", "aux", "avec", "ce", "cette", "dans", "du", "elle", "est", "et", "il", "le",
            "les", "leur", "mais", "ont", "où", "par", "pas", "pour", "qui", "sa", "ses", "sont",
            "sur", "un", "une",
        ],
    ),
    (
        "it",
        &[
            "che", "degli", "della", "delle", "di", "gli", "il", "nel", "nella", "non", "per",
            "sono", "stato", "una", "è",
        ],
    ),
    (
        "nl",
        &[
            "bij", "dat", "deze", "door", "een", "en", "het", "is", "met", "niet", "ook", "op",
            "van", "voor", "werd", "wordt", "zijn",
        ],
    ),
    (
        "pt",
        &[
            "ao", "com", "da", "das", "do", "dos", "está", "foi", "mais", "na", "no", "não", "os",
            "para", "pelo", "que", "uma", "é",
        ],
    ),
];

/// Function-word hits needed, and how many times the runner-up's.
const MIN_HITS: usize = 8;
const MARGIN: usize = 4;

/// Longest listed word, in bytes: longer words are skipped unread.
const MAX_WORD_BYTES: usize = 6;

/// For a weak guess (see [`Hits::weak`]): hits, and distinct words among
/// them, of the one language the sample's function words name.
const WEAK_HITS: usize = 4;
const WEAK_DISTINCT: usize = 3;

/// Every listed word with the languages (bits, in [`WORDS`] order) that
/// list it, and its number (for counting distinct words). A hash map, not a
/// binary search per language: the lookup ran for every word of every
/// sample and was a fifth of the cost of normalising a Reuters item.
static TABLE: LazyLock<FxHashMap<&'static str, (u8, u8)>> = LazyLock::new(|| {
    let mut table: FxHashMap<&'static str, (u8, u8)> = FxHashMap::default();
    for (n, (_, words)) in WORDS.iter().enumerate() {
        for word in *words {
            let number = table.len() as u8;
            table.entry(*word).or_insert((0, number)).0 |= 1 << n;
        }
    }
    table
});

/// The function words of a sample: hits per language, and distinct words
/// per language.
pub(crate) struct Hits {
    hits: [usize; WORDS.len()],
    distinct: [usize; WORDS.len()],
}

impl Hits {
    /// A weak guess ([`Hits::weak`]) that contradicts `code`, a listed
    /// language none of whose function words the sample has.
    pub(crate) fn against(&self, code: &str) -> Option<(&'static str, f32)> {
        let listed = WORDS.iter().position(|(c, _)| *c == code)?;
        if self.hits[listed] > 0 {
            return None;
        }
        self.weak()
    }

    /// `Some((code, confidence))` when one language's function words
    /// clearly dominate the sample. The confidence is `1 - runner_up /
    /// best`.
    pub(crate) fn clear(&self) -> Option<(&'static str, f32)> {
        verdict(&self.hits)
    }

    /// For a sample whatlang cannot decide: `Some((code, confidence))` when
    /// its function words, fewer than a clear guess needs, are all of one
    /// language (at least [`WEAK_HITS`] of [`WEAK_DISTINCT`] distinct
    /// words, none of any other). whatlang is unsure of short English
    /// ("Japan's economy shrank in the April-June quarter, the government
    /// said Monday …": French, confidence 0.33); its "the", "said" and
    /// "had" are not. The confidence is the share of a clear guess's hits
    /// found, below 1.
    pub(crate) fn weak(&self) -> Option<(&'static str, f32)> {
        let mut named = (0..WORDS.len()).filter(|&n| self.hits[n] > 0);
        let (Some(n), None) = (named.next(), named.next()) else {
            return None;
        };
        (self.hits[n] >= WEAK_HITS && self.distinct[n] >= WEAK_DISTINCT)
            .then(|| (WORDS[n].0, (self.hits[n] as f32 / MIN_HITS as f32).min(0.9)))
    }
}

/// `Some((code, confidence))` when one language's function words clearly
/// dominate the sample (see [`Hits::clear`]).
#[cfg(test)]
pub(crate) fn guess(sample: &str) -> Option<(&'static str, f32)> {
    count(sample).clear()
}

/// Counts the function words of `sample`.
pub(crate) fn count(sample: &str) -> Hits {
    let table = &*TABLE;
    let mut hits = [0usize; WORDS.len()];
    let mut distinct = [0usize; WORDS.len()];
    // Which listed words were seen, by number (fewer than 256 words).
    let mut seen = [0u64; 4];
    let mut count = |(languages, number): (u8, u8)| {
        let (word, bit) = (usize::from(number / 64), number % 64);
        let new = seen[word] >> bit & 1 == 0;
        seen[word] |= 1 << bit;
        for n in 0..WORDS.len() {
            let listed = usize::from(languages >> n & 1);
            hits[n] += listed;
            if new {
                distinct[n] += listed;
            }
        }
    };
    if sample.is_ascii() {
        // The same words, read byte by byte and lower-cased on the stack.
        let mut word = [0u8; MAX_WORD_BYTES];
        let mut len = 0usize;
        for &b in sample.as_bytes().iter().chain(std::iter::once(&b' ')) {
            if b.is_ascii_alphabetic() {
                if len < MAX_WORD_BYTES {
                    word[len] = b.to_ascii_lowercase();
                }
                len += 1;
                continue;
            }
            if (1..=MAX_WORD_BYTES).contains(&len) {
                let key = std::str::from_utf8(&word[..len]).unwrap_or_default();
                if let Some(&word) = table.get(key) {
                    count(word);
                }
            }
            len = 0;
        }
        return Hits { hits, distinct };
    }
    let mut lower = String::new();
    for word in sample
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty() && w.len() <= MAX_WORD_BYTES)
    {
        let key = if word.bytes().all(|b| b.is_ascii_lowercase()) {
            word
        } else {
            lower.clear();
            lower.extend(word.chars().flat_map(char::to_lowercase));
            lower.as_str()
        };
        if let Some(&word) = table.get(key) {
            count(word);
        }
    }
    Hits { hits, distinct }
}

/// The guess from the hits per language.
fn verdict(hits: &[usize; WORDS.len()]) -> Option<(&'static str, f32)> {
    let mut order: Vec<usize> = (0..WORDS.len()).collect();
    order.sort_by_key(|&n| std::cmp::Reverse(hits[n]));
    let (best, second) = (hits[order[0]], hits[order[1]]);
    (best >= MIN_HITS && best >= MARGIN * second.max(1))
        .then(|| (WORDS[order[0]].0, 1.0 - second as f32 / best as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weak_guess_needs_one_language_only() {
        let en = "Japan's economy shrank in the April-June quarter, the government said Monday, as exports fell sharply. The decline followed a contraction in the previous quarter. Economists had expected a smaller drop in output.";
        let hits = count(en);
        assert_eq!(hits.clear(), None);
        assert_eq!(hits.weak(), Some(("en", 0.75)));
        // One word repeated is not enough, nor words of two languages.
        assert_eq!(count("di di di di di").weak(), None);
        assert_eq!(count("the the said had und").weak(), None);
        assert!(TABLE.len() < 256);
    }

    #[test]
    fn word_lists_are_sorted() {
        for (code, words) in WORDS {
            assert!(words.windows(2).all(|w| w[0] < w[1]), "{code}");
        }
    }

    #[test]
    fn guesses_wire_copy_and_leaves_the_rest() {
        // Reuters-21578 #2.
        let en = "Standard Oil Co and BP North America Inc said they plan to form a venture to manage the money market borrowing and investment activities of both companies. BP North America is a subsidiary of British Petroleum Co Plc, which also owns a 55 pct interest in Standard Oil.";
        assert_eq!(guess(en).map(|g| g.0), Some("en"));
        // The French seed's opening.
        let fr = "La Russie a demandé à la Chine du matériel militaire et une aide économique pour soutenir son invasion de l’Ukraine, ont déclaré des responsables américains, ce qui a exacerbé les tensions avant une réunion à Rome entre de hauts responsables des États-Unis et de la Chine. Les responsables n’ont pas précisé quelles armes.";
        let (code, confidence) = guess(fr).expect("French");
        assert_eq!(code, "fr");
        assert!(confidence > 0.8, "{confidence}");
        // A results table and a Catalan sentence are left to whatlang.
        assert_eq!(
            guess("Shr loss 25 cts vs profit 11 cts Net loss 446,005 vs profit 185,325"),
            None
        );
        assert_eq!(guess("El Govern ha aprovat aquest dimarts el projecte de llei dels pressupostos de la Generalitat"), None);
    }
}
