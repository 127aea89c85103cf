//! Headline furniture: service prefixes (`REFILE-`, `UPDATE 1-`, `(RPT)`)
//! and ticker markers (`&lt;BAC>`).

use std::sync::LazyLock;

use regex::Regex;

use crate::text;

/// Service markers an agency puts before a headline, alone or stacked
/// (`RPT-UPDATE 2-…`), with a dash or inside parentheses (Reuters writes
/// `CORRECTED -`, `CORRECTED-`, `(CORRECTED) -` and `(RPT) `). They are
/// upper case on the wire; matching only upper case keeps ordinary words at
/// the start of a headline ("Update on …") safe.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    let markers = r"REFILE|RPT|REPEAT|CORRECTED|CORRECTION|FLASH|BRIEF|UPDATE(?:\s?\d{1,2})?|WRAPUP(?:\s?\d{1,2})?";
    Regex::new(&format!(
        r"^(?:\((?:{markers})\)\s*(?:[-–—:]\s*)?|(?:{markers})\s*[-–—]\s*)+"
    ))
    .expect("valid prefix regex")
});

/// The same markers in parentheses at the end (`… (RPT)`).
static SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*\((?:REFILE|RPT|REPEAT|CORRECTED)\)$").expect("valid suffix regex")
});

/// A Reuters company marker, `<…>` once entities are decoded.
static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([^<>]{1,80})>").expect("valid marker regex"));

/// An HTML tag in a headline (`<b>`, `</em>`, `<a href="…">`, `<br/>`),
/// which is markup, not a company marker: the inline elements and breaks
/// that feeds put in titles meant to be plain text (RSS, ninjs). Lower case
/// only: Reuters markers are upper case (`<B>` may be a ticker), HTML in
/// headlines is not. Its one group is the element's name.
static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^/?(a|abbr|b|big|br|cite|code|del|div|em|font|h[1-6]|i|img|ins|mark|p|q|s|small|span|strike|strong|sub|sup|time|u)(?:\s[^<>]*)?/?$",
    )
    .expect("valid html tag regex")
});

/// Tags that separate words rather than sit inside them.
fn breaks_words(element: &str) -> bool {
    matches!(element, "br" | "div" | "img" | "p") || element.starts_with('h')
}

/// A marker is a ticker when it is one short upper-case token (`BAC`,
/// `INTN.AS`, `T`); otherwise it names a company that has none
/// (`<HOECHST AG>`, `<Tunis Air>`).
pub(crate) fn is_ticker(marker: &str) -> bool {
    marker.len() <= 12
        && marker
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && marker.chars().all(|c| {
            c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '&' | '/' | '=')
        })
}

/// Cleans a headline: entities, controls, NFC, service markers, tickers,
/// whitespace. Tickers are appended to `tickers` (without duplicates). The
/// case is kept as sent: Reuters headlines are all capitals.
pub(crate) fn clean(raw: &str, tickers: &mut Vec<String>) -> String {
    let mut headline = text::clean_line(raw);
    if let Some(prefix) = PREFIX.find(&headline) {
        headline.replace_range(..prefix.end(), "");
    }
    if let Some(suffix) = SUFFIX.find(&headline) {
        headline.truncate(suffix.start());
    }
    if headline.contains('<') {
        headline = lift_markers(&headline, tickers);
    }
    headline
}

/// Removes ticker markers (recording them) and unwraps company-name markers.
fn lift_markers(headline: &str, tickers: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(headline.len());
    let mut last = 0;
    for captures in MARKER.captures_iter(headline) {
        let (Some(whole), Some(inner)) = (captures.get(0), captures.get(1)) else {
            continue;
        };
        out.push_str(&headline[last..whole.start()]);
        let marker = inner.as_str().trim();
        if let Some(tag) = HTML_TAG.captures(inner.as_str()) {
            // Markup that reached the headline: gone, without a space
            // ("<b>Bold</b>ly"), but for the breaks.
            if tag.get(1).is_some_and(|name| breaks_words(name.as_str())) {
                out.push(' ');
            }
        } else if is_ticker(marker) {
            if !tickers.iter().any(|known| known == marker) {
                tickers.push(marker.to_owned());
            }
            // "NATIONAL<MLC>4TH" must not become "NATIONAL4TH".
            out.push(' ');
        } else {
            out.push(' ');
            out.push_str(marker);
            out.push(' ');
        }
        last = whole.end();
    }
    out.push_str(&headline[last..]);
    // The spaces put around markers must not end up before punctuation
    // ("BANKAMERICA <BAC>, SECURITY").
    let collapsed = text::collapse_whitespace(&out);
    let mut tidy = String::with_capacity(collapsed.len());
    let mut chars = collapsed.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' '
            && chars
                .peek()
                .is_some_and(|next| matches!(next, ',' | ';' | ':' | '.' | ')'))
        {
            continue;
        }
        tidy.push(c);
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headline(raw: &str) -> (String, Vec<String>) {
        let mut tickers = Vec::new();
        let cleaned = clean(raw, &mut tickers);
        (cleaned, tickers)
    }

    #[test]
    fn lifts_tickers_from_reuters_headlines() {
        assert_eq!(
            headline("TALKING POINT/BANKAMERICA &lt;BAC> EQUITY OFFER"),
            (
                "TALKING POINT/BANKAMERICA EQUITY OFFER".to_owned(),
                vec!["BAC".to_owned()]
            )
        );
        assert_eq!(
            headline("CORRECTED - MANHATTAN NATIONAL&lt;MLC>4TH QTR LOSS"),
            (
                "MANHATTAN NATIONAL 4TH QTR LOSS".to_owned(),
                vec!["MLC".to_owned()]
            )
        );
        assert_eq!(
            headline("ECONOMIC SPOTLIGHT - BANKAMERICA &lt;BAC>"),
            (
                "ECONOMIC SPOTLIGHT - BANKAMERICA".to_owned(),
                vec!["BAC".to_owned()]
            )
        );
        assert_eq!(headline("USX &lt;X> DEBT DOWGRADED BY MOODY'S").1, ["X"]);
    }

    #[test]
    fn unwraps_company_names() {
        assert_eq!(
            headline("(CORRECTED)-&lt;AMERICAN VARIETY INTERNATIONAL INC>"),
            ("AMERICAN VARIETY INTERNATIONAL INC".to_owned(), vec![])
        );
        assert_eq!(
            headline("&lt;DAIWA SECURITIES CO> TO SUPPLY MARKET UPDATE").0,
            "DAIWA SECURITIES CO TO SUPPLY MARKET UPDATE"
        );
    }

    #[test]
    fn strips_service_prefixes() {
        let cases = [
            ("REFILE-Oil prices rise", "Oil prices rise"),
            ("UPDATE 1-Oil prices rise", "Oil prices rise"),
            ("UPDATE 2-Oil prices rise", "Oil prices rise"),
            ("RPT-UPDATE 2-Oil prices rise", "Oil prices rise"),
            (
                "CORRECTED-NETWORK VIDEO INC 3RD QTR",
                "NETWORK VIDEO INC 3RD QTR",
            ),
            (
                "CORRECTED - GM SEES RISE IN EUROPEAN SALES",
                "GM SEES RISE IN EUROPEAN SALES",
            ),
            (
                "(CORRECTED) - PHILIPPINES CRITICISES EC FOR OIL LEVY",
                "PHILIPPINES CRITICISES EC FOR OIL LEVY",
            ),
            (
                "(CORRECTED)-IVORY COAST CONFIRMS PRESENCE AT TALKS",
                "IVORY COAST CONFIRMS PRESENCE AT TALKS",
            ),
            (
                "(RPT) U.S. SAYS TIN DISPOSALS WILL NOT AFFECT ACCORD",
                "U.S. SAYS TIN DISPOSALS WILL NOT AFFECT ACCORD",
            ),
            ("FLASH-Quake hits", "Quake hits"),
            ("BRIEF-Acme posts Q1 profit", "Acme posts Q1 profit"),
            ("U.S. SAYS TIN DISPOSALS (RPT)", "U.S. SAYS TIN DISPOSALS"),
        ];
        for (raw, expected) in cases {
            assert_eq!(headline(raw).0, expected, "{raw}");
        }
    }

    #[test]
    fn html_tags_are_not_markers() {
        // Used to read as company markers: "b Bold /b headline".
        assert_eq!(
            headline("&lt;b&gt;Bold&lt;/b&gt; headline &amp; more"),
            ("Bold headline & more".to_owned(), vec![])
        );
        assert_eq!(
            headline("CDATA <em>title</em> here<br/>and <a href=\"x\">link</a>").0,
            "CDATA title here and link"
        );
        assert_eq!(
            headline("<h1>Big</h1>news in <div class=\"x\">two</div>parts").0,
            "Big news in two parts"
        );
        // Upper case is a marker, as on the Reuters wire.
        assert_eq!(headline("BARNES &lt;B> UP").1, ["B"]);
        assert_eq!(headline("&lt;EM INC> UP").0, "EM INC UP");
    }

    #[test]
    fn leaves_ordinary_headlines_alone() {
        let cases = [
            "TWA &lt;TWA> TO REFILE WITH U.S. AGENCY",
            "Update on the talks",
            "UK EQUITIES SEEN DUE FOR DOWNWARD CORRECTION",
            "Les États-Unis affirment que la Russie a demandé l’aide militaire",
        ];
        assert_eq!(headline(cases[0]).0, "TWA TO REFILE WITH U.S. AGENCY");
        for raw in &cases[1..] {
            assert_eq!(headline(raw).0, *raw);
        }
        assert_eq!(headline("  BAHIA   COCOA\nREVIEW ").0, "BAHIA COCOA REVIEW");
    }
}
