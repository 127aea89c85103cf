//! Words, shingles and numbers of an article's matching form.

use crate::hash;

/// The words of a matching-form text: runs of letters and digits. A `.`,
/// `,` or `'` between two of them stays inside the word, so that `1,234,000`,
/// `0.2`, `u.s` and `company's` are one word each; everything else
/// (hyphens, quotes, brackets) separates words, so re-typeset copies agree.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        // Skip to the start of a word.
        while at < text.len() && !starts_word(text, at) {
            at += 1;
        }
        if at >= text.len() {
            return None;
        }
        let start = at;
        while at < text.len() {
            if starts_word(text, at) {
                at += char_len(bytes[at]);
            } else if matches!(bytes[at], b'.' | b',' | b'\'')
                && at + 1 < text.len()
                && starts_word(text, at + 1)
            {
                at += 1;
            } else {
                break;
            }
        }
        Some(&text[start..at])
    })
}

fn char_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Whether a letter or digit starts at byte `at` (which must not be inside
/// a character: every caller steps by whole characters or ASCII bytes).
/// It is called for every byte of every body: the ASCII test is inlined into
/// the word loop, and the rare non-ASCII case is kept out of line so that
/// the compiler does inline the rest.
#[inline]
fn starts_word(text: &str, at: usize) -> bool {
    let b = text.as_bytes()[at];
    if b.is_ascii() {
        return b.is_ascii_alphanumeric();
    }
    starts_non_ascii_word(text, at)
}

#[inline(never)]
fn starts_non_ascii_word(text: &str, at: usize) -> bool {
    if !text.is_char_boundary(at) {
        return false;
    }
    text[at..].chars().next().is_some_and(char::is_alphanumeric)
}

/// A number: a word with a digit in it.
pub(crate) fn is_number(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
}

/// Hashes of the word `k`-grams of `words`, in text order (with repeats).
/// A text shorter than `k` words gives one shingle of all its words.
pub(crate) fn shingles(word_hashes: &[u64], k: usize) -> Vec<u64> {
    let k = k.max(1);
    if word_hashes.is_empty() {
        return Vec::new();
    }
    if word_hashes.len() <= k {
        return vec![word_hashes.iter().fold(0, |h, &w| hash::combine(h, w))];
    }
    word_hashes
        .windows(k)
        .map(|window| window.iter().fold(0, |h, &w| hash::combine(h, w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_figures_and_abbreviations_whole() {
        // Reuters-21578 #5, in matching form.
        let text = "shr 34 cts vs 1.19 dlrs net 1,234,000 vs 3,046,000 - u.s. company's \"sales\"";
        let got: Vec<&str> = words(text).collect();
        assert_eq!(
            got,
            [
                "shr",
                "34",
                "cts",
                "vs",
                "1.19",
                "dlrs",
                "net",
                "1,234,000",
                "vs",
                "3,046,000",
                "u.s",
                "company's",
                "sales"
            ]
        );
        assert!(is_number("1,234,000") && is_number("4th") && !is_number("net"));
        let accented: Vec<&str> = words("l'aide militaire à la chine, états-unis").collect();
        assert_eq!(
            accented,
            ["l'aide", "militaire", "à", "la", "chine", "états", "unis"]
        );
    }

    #[test]
    fn shingles_are_word_trigrams() {
        let hashes: Vec<u64> = (1..=5).collect();
        assert_eq!(shingles(&hashes, 3).len(), 3);
        assert_eq!(shingles(&hashes[..2], 3).len(), 1);
        assert!(shingles(&[], 3).is_empty());
        // Order matters: a shingle is a phrase, not a bag of words.
        assert_ne!(shingles(&[1, 2, 3], 3), shingles(&[3, 2, 1], 3));
    }
}
