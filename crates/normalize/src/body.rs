//! The body: markup to paragraphs, then agency furniture off both ends.

use std::sync::LazyLock;

use regex::Regex;
use wirestream_model::BodyKind;

use crate::{furniture, headline, html, same_matching_form, signoff, text};

/// What the body yields besides its text.
#[derive(Debug, Default)]
pub(crate) struct Body {
    /// Paragraphs joined by a blank line.
    pub text: String,
    pub byline: Option<String>,
    pub dateline: Option<String>,
    pub tags: Vec<String>,
}

/// Cleans a body. `declared_byline` and `declared_dateline` are the cleaned
/// fields the provider sent, if any: the body copy of them is removed, and a
/// byline or dateline found in the body is only reported when none was
/// declared.
pub(crate) fn clean(
    kind: BodyKind,
    raw: &str,
    headline: &str,
    declared_byline: Option<&str>,
    declared_dateline: Option<&str>,
) -> Body {
    let mut paragraphs = match kind {
        BodyKind::Html => html::blocks(raw)
            .iter()
            .map(|block| text::clean_line(block))
            .filter(|block| !block.is_empty())
            .collect(),
        BodyKind::Text => {
            let cleaned = text::clean(raw, true);
            let mut paragraphs = text::paragraphs_from_text(&cleaned, |line, first| {
                signoff::is_trailer_line(line) || (first && furniture::is_byline(line))
            });
            // Reuters company markers (`<Tunis Air>`, `<SRD>`) are plain-text
            // markup; in an HTML body a decoded `<` is text the author meant.
            for paragraph in &mut paragraphs {
                if paragraph.contains('<') {
                    *paragraph = unwrap_markers(paragraph);
                }
            }
            paragraphs
        }
    };

    let mut body = Body::default();

    // Some feeds repeat the headline as the first line of the body (TT).
    if paragraphs.len() > 1 && !headline.is_empty() && same_matching_form(&paragraphs[0], headline)
    {
        paragraphs.remove(0);
    }

    // Byline: a short leading line, or a copy of the declared one.
    if let Some(first) = paragraphs.first() {
        let copy_of_declared =
            declared_byline.is_some_and(|byline| same_matching_form(first, byline));
        if copy_of_declared || furniture::is_byline(first) {
            let first = paragraphs.remove(0);
            if declared_byline.is_none() {
                body.byline = Some(first);
            }
        }
    }

    // Dateline, at the head of the first paragraph.
    if let Some(first) = paragraphs.first_mut() {
        let found =
            furniture::find_dateline(first).map(|(dateline, end)| (dateline.to_owned(), end));
        let strip = match (found, declared_dateline) {
            (Some((dateline, end)), declared) => {
                if declared.is_none() {
                    body.dateline = Some(dateline);
                }
                Some(end)
            }
            (None, Some(declared)) => furniture::declared_dateline_prefix(first, declared),
            (None, None) => None,
        };
        if let Some(end) = strip {
            first.replace_range(..end, "");
            if first.trim().is_empty() {
                paragraphs.remove(0);
            }
        }
    }

    signoff::strip_trailers(&mut paragraphs, &mut body.tags);

    body.text = paragraphs.join("\n\n");
    body
}

/// A company marker in Reuters body text.
static BODY_MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([^<>\n]{1,80})>").expect("valid marker regex"));

/// Reuters marks companies in body text with angle brackets: a listed one by
/// its ticker (`Standard Oil Co <SRD> said`), an unlisted one by its name
/// (`said <Tunis Air> will`). The reader should see neither bracket: a name
/// is kept as text, a ticker is written the way Reuters writes tickers
/// today, in parentheses (`Standard Oil Co (SRD) said`). Body tickers are not
/// added to `Article.tickers`, which holds headline markers only.
fn unwrap_markers(paragraph: &str) -> String {
    BODY_MARKER
        .replace_all(paragraph, |captures: &regex::Captures<'_>| {
            let marker = captures.get(1).map_or("", |m| m.as_str()).trim();
            if headline::is_ticker(marker) {
                format!("({marker})")
            } else {
                marker.to_owned()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_body(raw: &str) -> Body {
        clean(BodyKind::Text, raw, "", None, None)
    }

    #[test]
    fn reuters_body_loses_its_furniture() {
        let raw = "SALVADOR, Feb 26 - Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\nJanuary and improving prospects for the coming temporao.\n    The dry period means the temporao will be late this year.\n Reuter\n&#3;";
        let body = text_body(raw);
        assert_eq!(body.dateline.as_deref(), Some("SALVADOR, Feb 26"));
        assert_eq!(
            body.text,
            "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January and improving prospects for the coming temporao.\n\nThe dry period means the temporao will be late this year."
        );
    }

    #[test]
    fn unwraps_body_company_markers() {
        let raw = "ROTTERDAM, April 1- Internatio-Mueller NV &lt;INTN.AS> said it\nwill acquire &lt;Tunis Air> and United Technologies Corp &lt;UTX> unit &lt;Pratt^M\nand Whitney>.\n Reuter\n&#3;";
        let body = text_body(raw);
        assert_eq!(
            body.text,
            "Internatio-Mueller NV (INTN.AS) said it will acquire Tunis Air and United Technologies Corp (UTX) unit Pratt and Whitney."
        );
        assert_eq!(body.dateline.as_deref(), Some("ROTTERDAM, April 1"));
    }

    #[test]
    fn leading_byline_is_lifted() {
        let raw = "By John Smith\nNEW YORK, March 3 - Oil prices rose on\nMonday.\n";
        let body = text_body(raw);
        assert_eq!(body.byline.as_deref(), Some("By John Smith"));
        assert_eq!(body.dateline.as_deref(), Some("NEW YORK, March 3"));
        assert_eq!(body.text, "Oil prices rose on Monday.");

        // A declared byline wins; its copy in the body goes.
        let body = clean(
            BodyKind::Html,
            "<p>Von Christian Hollmann, dpa</p><p>Text.</p>",
            "",
            Some("Von Christian Hollmann, dpa"),
            None,
        );
        assert_eq!(body.byline, None);
        assert_eq!(body.text, "Text.");
    }

    #[test]
    fn declared_dateline_is_stripped_from_the_body() {
        let body = clean(
            BodyKind::Text,
            "WASHINGTON - The Senate voted.",
            "",
            None,
            Some("Washington"),
        );
        assert_eq!(body.dateline, None);
        assert_eq!(body.text, "The Senate voted.");

        let body = clean(
            BodyKind::Text,
            "GROSSETO, Italy (AP) -- The trial began.",
            "",
            None,
            Some("GROSSETO, Italy"),
        );
        assert_eq!(body.dateline, None);
        assert_eq!(body.text, "The trial began.");
    }

    #[test]
    fn headline_repeated_in_the_body_is_dropped() {
        // The TT example's plain-text body.
        let raw = "Militärövning i jätteformat hålls 2023\nFörsvar TT\nPandemin satte stopp för den stora internationella militärövningen Aurora 2020 förra våren. Redan då sade Försvarsmakten att den skulle genomföras senare och nu står det klart att det blir 2023, rapporterar Sydöstran.";
        let body = clean(
            BodyKind::Text,
            raw,
            "Militärövning i jätteformat hålls 2023",
            None,
            None,
        );
        assert!(
            body.text.starts_with("Försvar TT\n\nPandemin satte stopp"),
            "{}",
            body.text
        );
    }
}
