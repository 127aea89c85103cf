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

/// Every listed word with the languages (bits, in [`WORDS`] order) that
/// list it. A hash map, not a binary search per language: the lookup ran
/// for every word of every sample and was a fifth of the cost of
/// normalising a Reuters item.
static TABLE: LazyLock<FxHashMap<&'static str, u8>> = LazyLock::new(|| {
    let mut table = FxHashMap::default();
    for (n, (_, words)) in WORDS.iter().enumerate() {
        for word in *words {
            *table.entry(*word).or_insert(0u8) |= 1 << n;
        }
    }
    table
});

/// `Some((code, confidence))` when one language's function words clearly
/// dominate the sample. The confidence is `1 - runner_up / best`.
pub(crate) fn guess(sample: &str) -> Option<(&'static str, f32)> {
    let table = &*TABLE;
    let mut hits = [0usize; WORDS.len()];
    let mut count = |languages: u8| {
        for (n, hit) in hits.iter_mut().enumerate() {
            *hit += usize::from(languages >> n & 1);
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
                if let Some(&languages) = table.get(key) {
                    count(languages);
                }
            }
            len = 0;
        }
        return verdict(&hits);
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
        if let Some(&languages) = table.get(key) {
            count(languages);
        }
    }
    verdict(&hits)
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
