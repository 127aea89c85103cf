//! Agency furniture at the head of a body: the byline and the dateline.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

use crate::same_matching_form;

/// Datelines at the head of a body. Each form needs an upper-case place
/// *and* a date or an agency marker followed by a dash, so that an ordinary
/// first sentence is never taken for one.
///
/// * Reuters-21578: `SALVADOR, Feb 26 - `, `MILWAUKEE, Wis., March 2- `,
///   `NEW YORK, March 9 -- `, `LONDON, March 3 (Reuters) - `;
/// * agency marker: `GROSSETO, Italy (AP) -- `, `LONDON (Reuters) - `,
///   `Berlin (dpa) - `, `NEW YORK--(BUSINESS WIRE)--`;
/// * press-release form in parentheses: `(New York, NY - October 21) `.
///
/// The capture `dateline` is what is stored, without the trailing dash.
static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    // A place: up to five words, the first capitalised ("NEW YORK",
    // "Rio de Janeiro"), then up to two ", Region" parts ("El Paso, Texas",
    // "MILWAUKEE, Wis.").
    let word = r"[\p{L}\p{M}][\p{L}\p{M}.'’&/-]*";
    let place = format!(
        r"\p{{Lu}}[\p{{L}}\p{{M}}.'’&/-]*(?: {word}){{0,4}}(?:, ?\p{{Lu}}[\p{{L}}\p{{M}}.'’&/-]*(?: {word}){{0,3}}){{0,2}}"
    );
    let month = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";
    let date = format!(r"{month} \d{{1,2}}(?:,? \d{{4}})?");
    // Agencies in upper case ("AP", "BUSINESS WIRE") or as they spell
    // themselves ("Reuters", "dpa").
    let agency = r"\((?:\p{Lu}[\p{Lu}\d .&/-]{0,30}|Reuters?|dpa|afp|Xinhua|Kyodo|Bloomberg|[A-Z][A-Za-z]* ?Newswire)\)";
    let dash = r"(?:--?|–|—)";
    RegexBuilder::new(&format!(
        r"^(?:(?P<dateline>{place}(?:, ?{date}(?: ?{agency})?| ?(?:--)? ?{agency}))) ?{dash} ?|^\((?P<paren>{place} {dash} {date})\) ?(?:{dash} ?)?"
    ))
    .dfa_size_limit(DATELINE_DFA_BYTES)
    .build()
    .expect("valid dateline regex")
});

/// Cache of the dateline regex's lazy DFA. With the default its many
/// Unicode classes filled the cache and the search fell back to the far
/// slower PikeVM on most Reuters bodies.
const DATELINE_DFA_BYTES: usize = 16 << 20;

/// Longest dateline looked for, with its dash: five place words, two
/// regions, a date and an agency fit several times over.
const DATELINE_MAX_BYTES: usize = 256;

/// Finds a dateline at the head of a (cleaned, single-line) paragraph.
/// Returns the dateline and the byte length of the prefix to remove.
pub(crate) fn find_dateline(paragraph: &str) -> Option<(&str, usize)> {
    // A dateline is a short head: the regex only sees the first bytes, so
    // that its capture search does not scan a whole paragraph (it was a
    // sixth of the cost of normalising a Reuters item).
    let mut end = paragraph.len().min(DATELINE_MAX_BYTES);
    while !paragraph.is_char_boundary(end) {
        end -= 1;
    }
    // `find`, not `captures`: the lazy DFA finds the match, where a capture
    // search then runs a far slower capture engine (PikeVM or backtracker)
    // over it, and most Reuters bodies have a dateline. The groups follow
    // from the match: either `dateline` and then ` ?{dash} ?`, or `(`
    // `paren` `)` and then an optional dash. Both groups end in a date's
    // digit or an agency's `)`, so taking the dashes and spaces off the end
    // leaves the group exactly.
    let whole = DATELINE.find(&paragraph[..end])?;
    let head = whole.as_str().trim_end_matches([' ', '-', '–', '—']);
    let dateline = match head.strip_prefix('(') {
        // A `place` starts with a capital, never with `(`.
        Some(paren) => paren.strip_suffix(')')?,
        None => head,
    };
    Some((dateline.trim(), whole.end()))
}

/// When the provider sent the dateline in its own field, the body may still
/// start with it (`WASHINGTON - …`): returns the length of that prefix.
pub(crate) fn declared_dateline_prefix(paragraph: &str, dateline: &str) -> Option<usize> {
    if dateline.is_empty() {
        return None;
    }
    let head = paragraph.get(..dateline.len())?;
    if !same_matching_form(head, dateline) {
        return None;
    }
    let rest = &paragraph[dateline.len()..];
    let after_dash = rest
        .trim_start()
        .strip_prefix("--")
        .or_else(|| rest.trim_start().strip_prefix(['-', '–', '—']))?;
    Some(paragraph.len() - after_dash.trim_start().len())
}

/// Words that introduce a byline, in the languages of the wires we take.
const BYLINE_INTRO: &[&str] = &["by", "von", "par", "por", "di", "door", "af", "av", "de"];

/// Lower-case words a byline may contain: particles of names, conjunctions
/// between authors, and agency names written in lower case.
const BYLINE_LOWER: &[&str] = &[
    "and", "und", "et", "y", "e", "og", "och", "en", "de", "da", "del", "der", "den", "van", "von",
    "le", "la", "di", "du", "dos", "das", "bin", "al", "dpa", "afp", "ap", "in",
];

/// Whether a leading body line is a byline: `By John Smith`, `BY JOHN
/// SMITH`, `Von Christian Hollmann, dpa`, `Par Jean Dupont`. It must be short
/// (at most 8 words) and every word after the intro capitalised or one of a
/// few particles, so that "By Friday, the company said" is not taken.
pub(crate) fn is_byline(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let Some(intro) = words.next() else {
        return false;
    };
    if !BYLINE_INTRO.iter().any(|w| w.eq_ignore_ascii_case(intro)) {
        return false;
    }
    let rest: Vec<&str> = words.collect();
    if rest.is_empty() || rest.len() > 7 || line.ends_with(['.', ':', '!', '?']) {
        return false;
    }
    // The first name must be capitalised: "By some accounts" is prose.
    if !rest[0].starts_with(char::is_uppercase) {
        return false;
    }
    rest.iter().all(|word| {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        // "d'Emilio", "O’Brien": the name after the apostrophe counts.
        let name = bare.rsplit(['\'', '’']).next().unwrap_or(bare);
        bare.is_empty() || name.starts_with(char::is_uppercase) || BYLINE_LOWER.contains(&bare)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_agency_datelines() {
        let cases = [
            (
                "SALVADOR, Feb 26 - Showers continued",
                "SALVADOR, Feb 26",
                "Showers continued",
            ),
            (
                "CLEVELAND, Feb 26 - The company",
                "CLEVELAND, Feb 26",
                "The company",
            ),
            ("NEW YORK, March 3 - Oil", "NEW YORK, March 3", "Oil"),
            (
                "MILWAUKEE, Wis., March 2- Oper shr 18 cts",
                "MILWAUKEE, Wis., March 2",
                "Oper shr 18 cts",
            ),
            (
                "NEW YORK, March 9 -- Oil traders",
                "NEW YORK, March 9",
                "Oil traders",
            ),
            (
                "CORAl GABLES, Fla, March 30- Shr 94 cts",
                "CORAl GABLES, Fla, March 30",
                "Shr 94 cts",
            ),
            (
                "KASSEL, West Germany, March 26- The former",
                "KASSEL, West Germany, March 26",
                "The former",
            ),
            (
                "GROSSETO, Italy (AP) -- The trial",
                "GROSSETO, Italy (AP)",
                "The trial",
            ),
            (
                "LONDON (Reuters) - Oil prices",
                "LONDON (Reuters)",
                "Oil prices",
            ),
            (
                "LONDON, March 3 (Reuters) - Oil prices",
                "LONDON, March 3 (Reuters)",
                "Oil prices",
            ),
            (
                "Berlin (dpa) - Die Regierung",
                "Berlin (dpa)",
                "Die Regierung",
            ),
            (
                "NEW YORK--(BUSINESS WIRE)--Acme Corp",
                "NEW YORK--(BUSINESS WIRE)",
                "Acme Corp",
            ),
            (
                "(New York, NY - October 21) Acme Corp said",
                "New York, NY - October 21",
                "Acme Corp said",
            ),
        ];
        for (paragraph, dateline, rest) in cases {
            let (found, end) = find_dateline(paragraph).unwrap_or_else(|| panic!("{paragraph}"));
            assert_eq!(found, dateline, "{paragraph}");
            assert_eq!(&paragraph[end..], rest, "{paragraph}");
        }
    }

    #[test]
    fn groups_follow_from_the_match() {
        // What the capture groups say, for the cases `find_dateline` derives
        // the dateline without them.
        for paragraph in [
            "SALVADOR, Feb 26 - Showers continued",
            "MILWAUKEE, Wis., March 2- Oper shr 18 cts",
            "NEW YORK, March 9 -- Oil traders",
            "NEW YORK, March 9 – Oil traders",
            "NEW YORK, March 9—Oil traders",
            "GROSSETO, Italy (AP) -- The trial",
            "LONDON, March 3, 1987 (Reuters) - Oil prices",
            "NEW YORK--(BUSINESS WIRE)--Acme Corp",
            "NEW YORK -- (PR Newswire) -- Acme",
            "(New York, NY - October 21) Acme Corp said",
            "(New York, NY – Oct. 21, 2020) – Acme Corp said",
            "SAINT-DENIS, Réunion, March 3 - Text",
        ] {
            let captures = DATELINE
                .captures(paragraph)
                .unwrap_or_else(|| panic!("{paragraph}"));
            let whole = captures.get(0).map(|m| m.end());
            let group = captures
                .name("dateline")
                .or_else(|| captures.name("paren"))
                .map(|m| m.as_str().trim());
            let found = find_dateline(paragraph);
            assert_eq!(found.map(|(d, _)| d), group, "{paragraph}");
            assert_eq!(found.map(|(_, end)| end), whole, "{paragraph}");
        }
    }

    #[test]
    fn does_not_eat_sentences() {
        let cases = [
            "The dry period means the temporao will be late this year.",
            "Shr 1.11 dlrs vs 1.04 dlrs",
            "Comissaria Smith said - in its weekly review - that",
            "Arrivals for the week ended February 22 were 155,221 bags",
            "Prices rose (mostly) - dealers said",
            "La Russie a demandé à la Chine du matériel militaire",
            "the company, March 3 - said",
        ];
        for paragraph in cases {
            assert_eq!(find_dateline(paragraph), None, "{paragraph}");
        }
    }

    #[test]
    fn strips_a_declared_dateline_from_the_body() {
        assert_eq!(
            declared_dateline_prefix("WASHINGTON - The Senate", "Washington"),
            Some(13)
        );
        assert_eq!(
            declared_dateline_prefix("WASHINGTON -- The Senate", "WASHINGTON"),
            Some(14)
        );
        assert_eq!(
            declared_dateline_prefix("Washington state said", "Washington"),
            None
        );
        assert_eq!(declared_dateline_prefix("The Senate", "Washington"), None);
    }

    #[test]
    fn recognises_bylines() {
        for line in [
            "By John Smith",
            "BY JOHN SMITH",
            "Von Christian Hollmann, dpa",
            "Par Jean Dupont et Marie Curie",
            "By Paulo Santalucia and Frances d'Emilio",
        ] {
            assert!(is_byline(line), "{line}");
        }
        for line in [
            "By Friday, the company said it would",
            "By some accounts",
            "By the end of the week prices had risen sharply again.",
            "Bylines",
            "By",
            "Suivre Demetri Sébastopulo sur Twitter",
        ] {
            assert!(!is_byline(line), "{line}");
        }
    }
}
