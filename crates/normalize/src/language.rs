//! The language of an article: declared by the provider, or detected.

use std::sync::LazyLock;

use whatlang::{Detector, Info, Lang};

use crate::stop_words;
use wirestream_model::LanguageSource;

/// The language fields of an article.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Language {
    pub code: Option<String>,
    pub confidence: Option<f32>,
    pub source: Option<LanguageSource>,
}

/// Detection reads at most this many bytes: trigram statistics settle long
/// before, and whole bodies would dominate the cost of normalising.
const DETECTION_SAMPLE: usize = 1_000;

/// Below this many distinct words (of three letters or more) a guess is not
/// trusted even when whatlang calls it reliable: whatlang is sure that
/// Reuters' results tables ("Shr loss 25 cts vs profit 11 cts / Net loss
/// 446,005 vs profit 185,325") are French. Short flashes fall here too.
const MIN_DISTINCT_WORDS: usize = 12;

/// Uses the declared language when there is a usable one, else detects it on
/// headline and body. Problems are pushed to `warnings`.
pub(crate) fn resolve(
    declared: Option<&str>,
    headline: &str,
    body: &str,
    warnings: &mut Vec<String>,
) -> Language {
    if let Some(tag) = declared.map(str::trim).filter(|tag| !tag.is_empty()) {
        match primary_subtag(tag) {
            Ok(Some(code)) => {
                return Language {
                    code: Some(code),
                    confidence: Some(1.0),
                    source: Some(LanguageSource::Declared),
                }
            }
            Ok(None) => {}
            Err(()) => warnings.push(format!("unusable declared language: {tag:?}")),
        }
    }
    detect(headline, body, warnings)
}

/// The primary subtag of a BCP 47 tag, lower-cased: `nb-NO` -> `nb`,
/// `en_US` -> `en`. Three-letter codes that have a two-letter equivalent are
/// mapped (`fra` -> `fr`). `und`, `mul`, `zxx` and private tags say nothing
/// about the language and count as undeclared (`Ok(None)`); anything that is
/// not a language tag is an error.
fn primary_subtag(tag: &str) -> Result<Option<String>, ()> {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or(tag)
        .to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(());
    }
    if matches!(primary.as_str(), "und" | "mul" | "zxx" | "mis") {
        return Ok(None);
    }
    if primary.len() == 3 {
        if let Some(lang) = Lang::from_code(primary.as_str()) {
            return Ok(Some(iso639_1(lang).to_owned()));
        }
    }
    Ok(Some(primary))
}

fn detect(headline: &str, body: &str, warnings: &mut Vec<String>) -> Language {
    let none = Language {
        code: None,
        confidence: None,
        source: None,
    };
    let mut sample = String::with_capacity(DETECTION_SAMPLE + headline.len() + 1);
    sample.push_str(headline);
    sample.push('\n');
    sample.push_str(prefix(body, DETECTION_SAMPLE));

    if !has_distinct_words(&sample, MIN_DISTINCT_WORDS) {
        warnings.push("language not detected: too little text".to_owned());
        return none;
    }
    let function_words = stop_words::count(&sample);
    // A function-word guess stands only if the text fits its letters.
    let fitting = |guess: Option<(&str, f32)>| {
        guess
            .filter(|(code, _)| writes_every_letter(code, &sample))
            .map(|(code, confidence)| detected(code, confidence))
    };
    if let Some(language) = fitting(function_words.clear()) {
        return language;
    }
    let Some(info) = detect_sample(&sample) else {
        warnings.push("language not detected".to_owned());
        return none;
    };
    let code = iso639_1(info.lang());
    if !info.is_reliable() {
        if let Some(language) = fitting(function_words.weak()) {
            return language;
        }
        warnings.push(format!(
            "language not detected reliably (best guess {code}, confidence {:.2})",
            info.confidence()
        ));
        return none;
    }
    // Sure, and contradicted: none of its function words, and only another
    // language's (upper-case English headlines read as French at 1.0).
    fitting(function_words.against(code))
        .unwrap_or_else(|| detected(code, info.confidence() as f32))
}

/// A detected language.
fn detected(code: &str, confidence: f32) -> Language {
    Language {
        code: Some(code.to_owned()),
        confidence: Some(confidence),
        source: Some(LanguageSource::Detected),
    }
}

/// Latin-script languages left out of the first detection pass: whatlang
/// scores a Latin text against every Latin profile (36 of them, 300 trigrams
/// each), which is most of the cost of normalising an article.
const RARE_LATIN: &[Lang] = &[
    Lang::Afr,
    Lang::Aka,
    Lang::Aze,
    Lang::Cat,
    Lang::Ces,
    Lang::Epo,
    Lang::Est,
    Lang::Hrv,
    Lang::Hun,
    Lang::Ind,
    Lang::Jav,
    Lang::Lat,
    Lang::Lav,
    Lang::Lit,
    Lang::Ron,
    Lang::Slk,
    Lang::Slv,
    Lang::Sna,
    Lang::Tgl,
    Lang::Tuk,
    Lang::Tur,
    Lang::Uzb,
    Lang::Vie,
    Lang::Zul,
];

/// The first pass: every language except [`RARE_LATIN`], i.e. for Latin
/// script only en, fr, de, es, pt, it, nl, sv, da, nb, fi and pl.
static COMMON: LazyLock<Detector> = LazyLock::new(|| Detector::with_denylist(RARE_LATIN.to_vec()));

/// Detects in two passes: the common languages first (three times cheaper
/// for Latin script); when that is not reliable, or the text has a letter
/// the language found does not write, every language whatlang knows. The
/// first pass is often sure of a common language for text in a rare one
/// (Vietnamese read as Portuguese, Azerbaijani as German, Hungarian as
/// Spanish, all with confidence 1.0); their letters (ư, ə, ő) send them to
/// the second. A rare language written with the letters of a common one can
/// still lose to it (Afrikaans read as Dutch, Estonian without õ as
/// Finnish): the price of speed, documented in docs/article.md.
fn detect_sample(sample: &str) -> Option<Info> {
    match COMMON.detect(sample) {
        Some(info) if info.is_reliable() && writes_every_letter(iso639_1(info.lang()), sample) => {
            Some(info)
        }
        _ => whatlang::detect(sample),
    }
}

/// Letters beyond a–z that each language the fast paths can answer writes
/// (the function-word guess and the first whatlang pass), loan words'
/// accents included (é in Swedish, Danish and Norwegian, ü in Spanish).
/// Other scripts' languages are not listed: both passes score them alike.
fn latin_letters(code: &str) -> Option<&'static str> {
    Some(match code {
        "en" => "",
        "fr" => "àâæçéèêëîïôœùûüÿ",
        "de" => "äöüß",
        "es" => "áéíñóúü",
        "pt" => "àáâãçéêíóôõú",
        "it" => "àèéìíîòóùú",
        "nl" => "áéèëíïóöúü",
        "sv" => "åäöé",
        "da" => "æøåé",
        "nb" => "æøåéèóòô",
        "fi" => "äöåšž",
        "pl" => "ąćęłńóśźż",
        _ => return None,
    })
}

/// Whether `text` has no Latin letter beyond a–z that language `code` does
/// not write. A stray name ("Zürich" in English copy) only costs the full
/// detection, which still reads the language around it.
fn writes_every_letter(code: &str, text: &str) -> bool {
    if text.is_ascii() {
        return true;
    }
    let Some(letters) = latin_letters(code) else {
        return true;
    };
    text.chars()
        .filter(|c| !c.is_ascii() && is_latin_letter(*c))
        .flat_map(char::to_lowercase)
        .all(|c| letters.contains(c))
}

/// Latin-1 Supplement, Latin Extended-A and -B, and Latin Extended
/// Additional (Vietnamese) letters.
fn is_latin_letter(c: char) -> bool {
    matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}') && c.is_alphabetic()
}

/// Whether `text` has at least `wanted` distinct words of three letters or
/// more (compared case-insensitively). Stops as soon as it has them.
fn has_distinct_words(text: &str, wanted: usize) -> bool {
    let mut seen: Vec<&str> = Vec::with_capacity(wanted);
    // Scripts written without spaces (Chinese, Japanese, Thai) give runs of
    // letters between punctuation, a clause each: 20 such letters in all
    // are as much text as `wanted` words.
    let mut unspaced = 0;
    for word in text.split(|c: char| !c.is_alphabetic()) {
        let letters = word.chars().count();
        if letters >= 20 && !word.is_ascii() {
            return true;
        }
        if word.chars().next().is_some_and(is_unspaced_script) {
            unspaced += letters;
            if unspaced >= 20 {
                return true;
            }
            continue;
        }
        if letters >= 3 && !seen.iter().any(|known| known.eq_ignore_ascii_case(word)) {
            seen.push(word);
            if seen.len() >= wanted {
                return true;
            }
        }
    }
    false
}

/// Letters of the scripts written without spaces between words: Thai,
/// Lao, Myanmar, Khmer, Japanese kana and the Han ideographs.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'
        | '\u{1000}'..='\u{109F}'
        | '\u{1780}'..='\u{17FF}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}')
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// ISO 639-1 code of a whatlang language (whatlang speaks ISO 639-3).
fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_language_is_reduced_to_its_primary_subtag() {
        let mut warnings = Vec::new();
        for (tag, code) in [
            ("nb-NO", "nb"),
            ("en-US", "en"),
            ("EN", "en"),
            ("fr", "fr"),
            ("de_DE", "de"),
            ("fra", "fr"),
        ] {
            let language = resolve(Some(tag), "", "", &mut warnings);
            assert_eq!(language.code.as_deref(), Some(code), "{tag}");
            assert_eq!(language.source, Some(LanguageSource::Declared));
            assert_eq!(language.confidence, Some(1.0));
        }
        assert!(warnings.is_empty());
    }

    #[test]
    fn detects_when_undeclared() {
        let mut warnings = Vec::new();
        let language = resolve(
            Some("und"),
            "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?",
            "Für Lucien Favre war es «der größte Skandal im Fußball seit Jahren». Der Trainer von Borussia Dortmund regte sich nach dem 2:4 im Revierderby gegen den FC Schalke 04 mächtig über den Handelfmeter zum zwischenzeitlichen 1:1 für die Gäste auf.",
            &mut warnings,
        );
        assert_eq!(language.code.as_deref(), Some("de"));
        assert_eq!(language.source, Some(LanguageSource::Detected));
        assert!(language.confidence.is_some_and(|c| c > 0.5 && c <= 1.0));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn short_text_is_left_undetected_with_a_warning() {
        let mut warnings = Vec::new();
        let language = resolve(None, "BRIEF", "Shr 1.11", &mut warnings);
        assert_eq!(language.code, None);
        assert_eq!(language.source, None);
        assert_eq!(warnings.len(), 1);

        let mut warnings = Vec::new();
        let language = resolve(Some("x-klingon-?"), "", "", &mut warnings);
        assert_eq!(language.code, None);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn results_tables_are_not_detected() {
        // Reuters-21578: whatlang says French, with confidence 1.0.
        let mut warnings = Vec::new();
        let language = resolve(
            None,
            "EMPI INC 4TH QTR LOSS",
            "Shr loss 25 cts vs profit 11 cts\n\nNet loss 446,005 vs profit 185,325\n\nSales 2.4 mln vs 2.5 mln\n\n12 mths\n\nShr loss 16 cts vs profit 41 cts",
            &mut warnings,
        );
        assert_eq!(language.code, None);
        assert_eq!(warnings, ["language not detected: too little text"]);
        assert!(has_distinct_words(
            "美國商業資訊為透明及軟性導體市場提供銀奈米線解決方案的領導廠商",
            12
        ));
    }

    #[test]
    fn function_words_settle_what_whatlang_gets_wrong() {
        // Unsure (French, 0.33) and sure (French) of English: a Reuters
        // results table.
        for (headline, body) in [
            ("Japan economy shrinks", "Japan's economy shrank in the April-June quarter, the government said Monday, as exports fell sharply. The decline followed a contraction in the previous quarter. Economists had expected a smaller drop in output."),
            ("SUPRADUR COS INC YEAR NET", "Oper shr 1.58 dlrs vs 77 cts\n\nOper net 1,648,000 vs 817,000\n\nSales 25.7 mln vs 20.5 mln\n\nNOTE: Net excludes discontinued operations gain 451,000 dlrs vs loss 4,310,000 dlrs."),
        ] {
            let mut warnings = Vec::new();
            let language = resolve(None, headline, body, &mut warnings);
            assert_eq!(language.code.as_deref(), Some("en"), "{headline} {warnings:?}");
            assert!(language.confidence.is_some_and(|c| c < 1.0), "{language:?}");
        }
    }

    #[test]
    fn text_without_spaces_is_counted_by_its_letters() {
        // Three short Chinese sentences, no clause of 20 characters: enough
        // text, which counting clauses as words called too little.
        let body = "上海股市周二收高，投资者对经济前景感到乐观。科技股领涨，银行股也有所上升。分析人士预计，市场本周将继续保持强劲。";
        let mut warnings = Vec::new();
        let language = resolve(None, "上海股市周二上涨", body, &mut warnings);
        assert_eq!(language.code.as_deref(), Some("zh"), "{warnings:?}");
        // A flash is still too little.
        assert!(!has_distinct_words("上海股市周二上涨", MIN_DISTINCT_WORDS));
    }

    #[test]
    fn rare_languages_with_their_own_letters_are_not_read_as_common_ones() {
        // Each long enough to detect (12 distinct words); the first whatlang
        // pass alone reads the first three as Portuguese, German and Spanish
        // with confidence 1.0.
        for (code, body) in [
            ("vi", "Chính phủ đã thông qua ngân sách năm tới, trong đó dự kiến giảm thuế cho các doanh nghiệp nhỏ và vừa ở nông thôn."),
            ("az", "Hökumət cümə axşamı gələn ilin büdcəsini təsdiq etdi və vergilərin azaldılmasını nəzərdə tutdu, nazir bildirib."),
            ("hu", "A kormány csütörtökön elfogadta a jövő évi költségvetést, amely jelentős adócsökkentést tartalmaz a kisvállalkozások számára."),
            ("cs", "Vláda schválila nový zákon o podpoře malých a středních podniků, který začne platit v příštím roce, řekl ministr."),
            ("tr", "Merkez Bankası faiz oranlarını yüzde iki puan artırdığını açıkladı ve piyasalar bu karara sert tepki verdi."),
        ] {
            let mut warnings = Vec::new();
            let language = resolve(None, "", body, &mut warnings);
            assert_eq!(language.code.as_deref(), Some(code), "{body} {warnings:?}");
        }
        // The common languages keep their fast answer, names from elsewhere
        // included.
        for (code, body) in [
            ("en", "Pelé and the mayor of Zürich met in São Paulo on Tuesday to discuss the football museum that the city plans to open next year."),
            ("fr", "Le gouvernement a annoncé mardi une hausse des taxes sur le carburant à partir du mois prochain, a déclaré le ministre à la presse."),
            ("de", "Die Regierung hat am Dienstag eine Erhöhung der Steuer auf Kraftstoff angekündigt, die im nächsten Monat gelten soll, sagte er."),
            ("pl", "Rząd przyjął w czwartek projekt budżetu na przyszły rok, który przewiduje obniżkę podatków dla małych i średnich firm w całym kraju."),
        ] {
            let mut warnings = Vec::new();
            let language = resolve(None, "", body, &mut warnings);
            assert_eq!(language.code.as_deref(), Some(code), "{body} {warnings:?}");
        }
        assert!(writes_every_letter("en", "plain ASCII"));
        assert!(writes_every_letter("es", "ÁRBOL Y PIÑA"));
        assert!(!writes_every_letter("es", "Hökumət"));
        assert!(writes_every_letter("ru", "Hökumət"));
    }

    #[test]
    fn prefix_cuts_at_a_character_boundary() {
        assert_eq!(prefix("États", 1), "");
        assert_eq!(prefix("États", 2), "É");
        assert_eq!(prefix("abc", 10), "abc");
    }
}
