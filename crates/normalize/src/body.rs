//! The body: markup to paragraphs, then agency furniture off both ends.

use std::sync::LazyLock;

use regex::Regex;
use wirestream_model::BodyKind;

use crate::{furniture, header, headline, html, same_matching_form, signoff, text};

/// What the body yields besides its text.
#[derive(Debug, Default)]
pub(crate) struct Body {
    /// Paragraphs joined by a blank line.
    pub text: String,
    pub byline: Option<String>,
    pub dateline: Option<String>,
    pub tags: Vec<String>,
    /// The author a sign-off names (`Suivre X sur Twitter`).
    pub signed: Option<String>,
}

/// The item's own lines a body may repeat at its head.
#[derive(Debug, Default)]
pub(crate) struct Lines<'a> {
    pub headline: &'a str,
    pub subheadlines: &'a [String],
}

/// Cleans a body. `declared_byline` and `declared_dateline` are the cleaned
/// fields the provider sent, if any: the body copy of them is removed, and a
/// byline or dateline found in the body is only reported when none was
/// declared.
pub(crate) fn clean(
    kind: BodyKind,
    raw: &str,
    lines: &Lines<'_>,
    declared_byline: Option<&str>,
    declared_dateline: Option<&str>,
) -> Body {
    let headline = lines.headline;
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

    // Agency header lines (keywords and send time, letter-spaced markers)
    // and the headline or a sub-headline repeated (TT, dpa) lead some
    // bodies: off the head, as long as something is left.
    while paragraphs.len() > 1 {
        let first = &paragraphs[0];
        let repeat = (!headline.is_empty() && same_matching_form(first, headline))
            || lines
                .subheadlines
                .iter()
                .any(|s| same_matching_form(first, s));
        if !(repeat || header::is_header_line(first)) {
            break;
        }
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

    body.signed = signoff::strip_trailers(&mut paragraphs, &mut body.tags);

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
        clean(BodyKind::Text, raw, &Lines::default(), None, None)
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
            &Lines::default(),
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
            &Lines::default(),
            None,
            Some("Washington"),
        );
        assert_eq!(body.dateline, None);
        assert_eq!(body.text, "The Senate voted.");

        let body = clean(
            BodyKind::Text,
            "GROSSETO, Italy (AP) -- The trial began.",
            &Lines::default(),
            None,
            Some("GROSSETO, Italy"),
        );
        assert_eq!(body.dateline, None);
        assert_eq!(body.text, "The trial began.");
    }

    #[test]
    fn agency_header_lines_leave_the_head() {
        let body = clean(
            BodyKind::Html,
            "<p>Energie Öl Prozess (Gericht) Italien 02.04.2024 14:49</p><h1>Prozess beginnt</h1>\
             <p>Von Angelika Engler, dpa</p><p>Mailand (dpa) - Der Prozess hat begonnen.</p>",
            &Lines {
                headline: "Prozess beginnt",
                subheadlines: &[],
            },
            None,
            None,
        );
        assert_eq!(body.byline.as_deref(), Some("Von Angelika Engler, dpa"));
        assert_eq!(body.dateline.as_deref(), Some("Mailand (dpa)"));
        assert_eq!(body.text, "Der Prozess hat begonnen.");

        let body = clean(
            BodyKind::Html,
            "<hl2>Försvar</hl2><p>N i e u w bericht, vervangt: x</p><p>Text.</p>",
            &Lines {
                headline: "",
                subheadlines: &["Försvar".to_owned()],
            },
            None,
            None,
        );
        assert_eq!(body.text, "Text.");
    }

    #[test]
    fn headline_repeated_in_the_body_is_dropped() {
        // The TT example's plain-text body.
        let raw = "Militärövning i jätteformat hålls 2023\nFörsvar TT\nPandemin satte stopp för den stora internationella militärövningen Aurora 2020 förra våren. Redan då sade Försvarsmakten att den skulle genomföras senare och nu står det klart att det blir 2023, rapporterar Sydöstran.";
        let body = clean(
            BodyKind::Text,
            raw,
            &Lines {
                headline: "Militärövning i jätteformat hålls 2023",
                subheadlines: &[],
            },
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
