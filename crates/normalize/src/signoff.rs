//! Trailers at the end of a body: sign-offs, credits, social links and feed
//! tags.

use std::sync::LazyLock;

use regex::Regex;

/// Paragraphs that are sign-offs or trailers, dropped from the end of a body.
static SIGNOFF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)^(?:
            reuters?(?:\.\.\.|…)?                      # Reuters-21578: Reuter, REUTER, REUTER...
            | more                                     # a take continues elsewhere
            | \(?(?:additional\ )?(?:reporting|writing|editing|compiled)\ by\b[^\n]{0,300}
            | follow\ (?P<en>.{1,80})\ on\ (?:twitter|x|facebook|instagram|linkedin)\.?
            | suivre\ (?P<fr>.{1,80})\ sur\ (?:twitter|x|facebook|instagram)\.?
            | folgen\ sie\ (?P<de>.{1,80})\ auf\ (?:twitter|x|facebook|instagram)\.?
        )$",
    )
    .expect("valid sign-off regex")
});

/// A feed tag alone on the last line (`ttn-fr-56`): kept as metadata.
static FEED_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z]{2,5}(?:-[a-z]{2,3})?-\d+$").expect("valid feed tag regex")
});

/// Reuters sometimes runs the sign-off into the last sentence
/// ("… SAO LUIZ GONZAGA NIL. REUTER").
static INLINE_REUTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([.)])\s+(?:REUTERS?|Reuters?)$").expect("valid regex"));

/// Whether a whole line is a sign-off or a feed tag. Such a line is kept as a
/// paragraph of its own when hard-wrapped lines are joined, so that
/// [`strip_trailers`] can find it.
pub(crate) fn is_trailer_line(line: &str) -> bool {
    FEED_TAG.is_match(line) || SIGNOFF.is_match(line)
}

/// Removes sign-offs and feed tags from the end of `paragraphs`, repeatedly
/// (the seed article ends in "Suivre … sur Twitter" then "ttn-fr-56"). Feed
/// tags are moved to `tags`, in document order. Returns the author a
/// social sign-off names (`Suivre Demetri Sébastopulo sur Twitter`), which
/// is the byline of an item that has none.
pub(crate) fn strip_trailers(
    paragraphs: &mut Vec<String>,
    tags: &mut Vec<String>,
) -> Option<String> {
    let mut found_tags = Vec::new();
    let mut author = None;
    while let Some(last) = paragraphs.last() {
        if FEED_TAG.is_match(last) {
            found_tags.push(last.clone());
        } else if let Some(captures) = SIGNOFF.captures(last) {
            let named = ["en", "fr", "de"]
                .iter()
                .find_map(|group| captures.name(group))
                .map(|m| m.as_str().trim())
                .filter(|name| looks_like_a_name(name));
            author = author.or(named.map(str::to_owned));
        } else {
            break;
        }
        paragraphs.pop();
    }
    if let Some(last) = paragraphs.last_mut() {
        if let Some(captures) = INLINE_REUTER.captures(last) {
            if let (Some(whole), Some(stop)) = (captures.get(0), captures.get(1)) {
                let keep = whole.start() + stop.as_str().len();
                last.truncate(keep);
            }
        }
    }
    found_tags.reverse();
    tags.extend(found_tags);
    author
}

/// A person's name, not a handle or a phrase: two to five words, each
/// capitalised or a name particle.
fn looks_like_a_name(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    (2..=5).contains(&words.len())
        && words
            .first()
            .is_some_and(|w| w.starts_with(char::is_uppercase))
        && words.iter().all(|w| {
            w.starts_with(char::is_uppercase)
                || ["de", "van", "von", "der", "da", "di", "le", "la"].contains(w)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(paragraphs: &[&str]) -> (Vec<String>, Vec<String>) {
        let mut paragraphs: Vec<String> = paragraphs.iter().map(|p| p.to_string()).collect();
        let mut tags = Vec::new();
        let _ = strip_trailers(&mut paragraphs, &mut tags);
        (paragraphs, tags)
    }

    #[test]
    fn drops_reuters_signoffs() {
        for signoff in ["Reuter", "REUTER", "reuter", "REUTER...", "Reuters", "MORE"] {
            assert_eq!(strip(&["Text.", signoff]).0, ["Text."], "{signoff}");
        }
        assert_eq!(
            strip(&["CRUZ ALTA NIL, SAO LUIZ GONZAGA NIL. REUTER"]).0,
            ["CRUZ ALTA NIL, SAO LUIZ GONZAGA NIL."]
        );
    }

    #[test]
    fn drops_credits_and_social_links_and_keeps_feed_tags() {
        let (paragraphs, tags) = strip(&[
            "Les deux dirigeants ont signé une déclaration commune.",
            "Suivre Demetri Sébastopulo sur Twitter",
            "ttn-fr-56",
        ]);
        assert_eq!(
            paragraphs,
            ["Les deux dirigeants ont signé une déclaration commune."]
        );
        assert_eq!(tags, ["ttn-fr-56"]);

        for trailer in [
            "(Reporting by Jane Doe; Editing by John Roe)",
            "(Additional reporting by Jane Doe in Paris; Writing by John Roe; Editing by Kim Coghill)",
            "Follow Demetri Sevastopulo on Twitter",
            "Folgen Sie Christian Hollmann auf Twitter",
        ] {
            assert_eq!(strip(&["Text.", trailer]).0, ["Text."], "{trailer}");
        }
    }

    #[test]
    fn a_social_sign_off_names_the_author() {
        let mut paragraphs = vec![
            "Texte.".to_owned(),
            "Suivre Demetri Sébastopulo sur Twitter".to_owned(),
            "ttn-fr-56".to_owned(),
        ];
        let author = strip_trailers(&mut paragraphs, &mut Vec::new());
        assert_eq!(author.as_deref(), Some("Demetri Sébastopulo"));
        let mut paragraphs = vec!["Text.".to_owned(), "Follow @newsdesk on X".to_owned()];
        assert_eq!(strip_trailers(&mut paragraphs, &mut Vec::new()), None);
    }

    #[test]
    fn keeps_real_endings() {
        let endings = [
            "Reuters reported the deal on Monday.",
            "Follow the money, he said.",
            "More than 100 people were hurt.",
            "the 1986/87 crop-56",
        ];
        for ending in endings {
            assert_eq!(strip(&["Text.", ending]).0, ["Text.", ending], "{ending}");
        }
        assert_eq!(strip(&[]).0, Vec::<String>::new());
        assert_eq!(strip(&["Reuter"]).0, Vec::<String>::new());
    }
}
