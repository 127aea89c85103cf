//! A fast first guess at the language, from function words.
//!
//! whatlang scores a text against hundreds of trigram profiles: about 40-80
//! µs per article, most of the cost of normalising. Most wire copy is in a
//! handful of languages whose commonest words tell them apart at once. When
//! those words settle it clearly, this guess is taken; otherwise (other
//! languages, mixed or short text) whatlang decides.

/// Words frequent in one language and rare in the others (so not "a", "de",
/// "en", "la", "in", "die", "son" …), sorted for binary search.
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
            "after", "and", "are", "at", "be", "by", "for", "from", "had", "has", "have", "is",
            "it", "its", "of", "on", "said", "that", "the", "this", "to", "was", "were", "which",
            "will", "with", "would",
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

/// `Some((code, confidence))` when one language's function words clearly
/// dominate the sample. The confidence is `1 - runner_up / best`.
pub(crate) fn guess(sample: &str) -> Option<(&'static str, f32)> {
    let mut hits = [0usize; WORDS.len()];
    let mut lower = String::new();
    for word in sample
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty() && w.len() <= 6)
    {
        lower.clear();
        lower.extend(word.chars().flat_map(char::to_lowercase));
        for (n, (_, words)) in WORDS.iter().enumerate() {
            if words.binary_search(&lower.as_str()).is_ok() {
                hits[n] += 1;
            }
        }
    }
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
