//! The internal subset of a DOCTYPE, read safely.
//!
//! Agencies send NewsML 1.2 with a DOCTYPE whose internal subset declares a
//! few entities (`<!ENTITY nbsp "&#160;">`). Those are read; everything
//! else in the DTD (element and attribute lists, parameter entities) is
//! ignored, and nothing is ever fetched. Refused, as [`ErrorKind::ForbiddenDtd`]:
//! external general entities (`SYSTEM`/`PUBLIC`, how XXE reads files and
//! reaches internal hosts), and expansions beyond [`MAX_ENTITY_BYTES`] or
//! eight times its value for one entity, or beyond [`MAX_EXPANDED_BYTES`]
//! for the document ("billion laughs" and its quadratic cousin).

use std::collections::HashMap;

use quick_xml::escape::resolve_html5_entity;

use crate::{ErrorKind, ParseError};

/// Largest replacement text of one entity, after expansion.
pub(crate) const MAX_ENTITY_BYTES: usize = 8 * 1024;
/// Most text all entity references of a document may expand to.
pub(crate) const MAX_EXPANDED_BYTES: usize = 1024 * 1024;
/// An entity expanding to more than this many bytes, and to more than
/// [`MAX_AMPLIFICATION`] times its declared value, is refused.
const MIN_AMPLIFIED_BYTES: usize = 256;
/// An entity may refer to plain entities, but not to one that refers to
/// others: the billion laughs need levels, real subsets never do.
const MAX_NESTING: usize = 2;
const MAX_AMPLIFICATION: usize = 8;
/// Longest entity or character reference name looked for; longer ones are
/// taken as a bare `&` (no real entity name comes near it).
const MAX_REFERENCE: usize = 64;
/// Most entities one internal subset may declare.
const MAX_ENTITIES: usize = 1024;

/// The internal entities a DOCTYPE declares, fully expanded.
#[derive(Debug, Default)]
pub(crate) struct Entities {
    map: HashMap<String, String>,
    /// Names whose values referred to other declared entities: they may
    /// not be referred to in turn (see [`MAX_NESTING`]).
    nested: std::collections::HashSet<String>,
    /// Bytes expanded so far, against [`MAX_EXPANDED_BYTES`].
    expanded: usize,
    /// Bytes expanded in attribute values, against the same limit: read
    /// through `&self` while the tree is built (see [`Entities::get`]).
    in_attributes: std::cell::Cell<usize>,
}

impl Entities {
    /// Reads the declarations of a DOCTYPE (the text after `<!DOCTYPE`).
    pub fn from_doctype(doctype: &str) -> Result<Entities, ParseError> {
        let mut entities = Entities::default();
        let Some(open) = doctype.find('[') else {
            return Ok(entities);
        };
        let mut rest = &doctype[open + 1..];
        while let Some(at) = find_ignore_case(rest, "<!ENTITY") {
            rest = &rest[at + "<!ENTITY".len()..];
            let (declaration, after) = split_declaration(rest);
            rest = after;
            let mut tokens = Tokens(declaration);
            let Some(first) = tokens.next() else { continue };
            let parameter = first == "%";
            let name = if parameter {
                tokens.next()
            } else {
                Some(first)
            };
            let Some(name) = name else { continue };
            let value = tokens.next();
            let external = matches!(value, Some(v) if v.eq_ignore_ascii_case("SYSTEM") || v.eq_ignore_ascii_case("PUBLIC"));
            if parameter {
                // Parameter entities only matter inside a DTD, which is
                // never processed: ignored, and never fetched.
                continue;
            }
            if external {
                return Err(forbidden(format!(
                    "external DTD entity declarations are not accepted (`{name}`: they allow \
                     XXE attacks); internal entities are"
                )));
            }
            let Some(value) = value.and_then(unquote) else {
                continue;
            };
            if entities.map.len() >= MAX_ENTITIES {
                return Err(forbidden(format!(
                    "the DTD declares more than {MAX_ENTITIES} entities"
                )));
            }
            // The first declaration of a name wins (XML 1.0, 4.2).
            if !entities.map.contains_key(name) {
                let (expanded, nests) = entities.expand_value(name, value)?;
                if nests {
                    entities.nested.insert(name.to_owned());
                }
                entities.map.insert(name.to_owned(), expanded);
            }
        }
        Ok(entities)
    }

    /// Expands the references in an entity value: character references,
    /// earlier entities (already expanded) and the predefined and HTML ones.
    /// Also says whether the value referred to a declared entity.
    fn expand_value(&self, name: &str, value: &str) -> Result<(String, bool), ParseError> {
        let mut out = String::with_capacity(value.len());
        let mut nests = false;
        let mut rest = value;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(reference) = reference_name(after) {
                rest = &after[reference.len() + 1..];
                if let Some(c) = char_reference(reference) {
                    out.push(c);
                } else if let Some(text) = self.map.get(reference) {
                    if self.nested.contains(reference) {
                        return Err(forbidden(format!(
                            "entity `{name}` refers to `&{reference};`, which refers to other \
                             entities: more than {MAX_NESTING} levels (a \"billion laughs\" attack?)"
                        )));
                    }
                    nests = true;
                    out.push_str(text);
                } else if let Some(text) = resolve_html5_entity(reference) {
                    out.push_str(text);
                } else {
                    return Err(forbidden(format!(
                        "entity `{name}` refers to `&{reference};`, which is not declared before it"
                    )));
                }
            } else {
                out.push('&');
                rest = after;
            }
            // On every path, a bare `&` included: a value of a million of
            // them must stop at the limit, not be copied whole first.
            if out.len() > MAX_ENTITY_BYTES {
                return Err(too_large(name));
            }
        }
        out.push_str(rest);
        // Nested references that multiply (`&a;&a;&a;…` of `&b;&b;&b;…`) are
        // the billion laughs, however small the first levels: an entity
        // much larger than the value it was declared with is refused.
        if out.len() > MAX_ENTITY_BYTES
            || (out.len() > MIN_AMPLIFIED_BYTES && out.len() > MAX_AMPLIFICATION * value.len())
        {
            return Err(too_large(name));
        }
        Ok((out, nests))
    }

    /// The replacement text of a reference in the document, counted
    /// against the document's expansion budget.
    pub fn resolve(&mut self, name: &str) -> Result<Option<&str>, ParseError> {
        let Some(text) = self.map.get(name) else {
            return Ok(None);
        };
        self.expanded += text.len();
        if self.expanded > MAX_EXPANDED_BYTES {
            return Err(forbidden(format!(
                "entity references expand to more than {MAX_EXPANDED_BYTES} bytes"
            )));
        }
        Ok(Some(text))
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The markup with every reference to a declared entity replaced by its
    /// text, escaped so that it stays text: bodies are cut out of the
    /// source as markup, and must not carry references only this DTD knows.
    ///
    /// Only where XML itself expands references: CDATA sections, comments
    /// and processing instructions are copied as they are (`AT&T;` in CDATA
    /// is text, whatever the DTD declares), and a replacement inside a tag
    /// (an attribute value) has its quotes escaped too, so that it cannot
    /// end the value it stands in.
    pub fn expand_in(&mut self, markup: &str) -> Result<String, ParseError> {
        let mut out = String::with_capacity(markup.len());
        let mut rest = markup;
        while let Some(at) = rest.find(['<', '&']) {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            if let Some(after) = from.strip_prefix('&') {
                rest = self.expand_reference(after, false, &mut out)?;
            } else if let Some((open, close)) =
                VERBATIM.iter().find(|(open, _)| from.starts_with(open))
            {
                // Unclosed: the rest is copied, and the parser reports it.
                let end = from[open.len()..]
                    .find(close)
                    .map_or(from.len(), |e| open.len() + e + close.len());
                out.push_str(&from[..end]);
                rest = &from[end..];
            } else {
                rest = self.expand_tag(from, &mut out)?;
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Copies the tag `tag` starts with (`<` included), expanding the
    /// references in its attribute values; returns what follows the tag.
    /// A `>` inside quotes does not end it (XML allows `title="a>b"`).
    fn expand_tag<'m>(&mut self, tag: &'m str, out: &mut String) -> Result<&'m str, ParseError> {
        let mut quote = None;
        let mut rest = tag;
        while let Some(at) = rest.find(['&', '"', '\'', '>']) {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            if let Some(after) = from.strip_prefix('&') {
                rest = self.expand_reference(after, true, out)?;
                continue;
            }
            let Some(c) = from.chars().next() else { break };
            out.push(c);
            rest = &from[c.len_utf8()..];
            match (quote, c) {
                (None, '>') => return Ok(rest),
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if q == c => quote = None,
                _ => {}
            }
        }
        out.push_str(rest);
        Ok("")
    }

    /// Expands the reference `after` (the text after a `&`) starts with,
    /// when it names a declared entity, else copies the `&`; returns what
    /// follows.
    fn expand_reference<'m>(
        &mut self,
        after: &'m str,
        in_attribute: bool,
        out: &mut String,
    ) -> Result<&'m str, ParseError> {
        match reference_name(after) {
            Some(name) if self.map.contains_key(name) => {
                let text = self.resolve(name)?.unwrap_or_default();
                for c in text.chars() {
                    match c {
                        '&' => out.push_str("&amp;"),
                        '<' => out.push_str("&lt;"),
                        '>' => out.push_str("&gt;"),
                        '"' if in_attribute => out.push_str("&quot;"),
                        '\'' if in_attribute => out.push_str("&apos;"),
                        c => out.push(c),
                    }
                }
                Ok(&after[name.len() + 1..])
            }
            _ => {
                out.push('&');
                Ok(after)
            }
        }
    }

    /// A declared entity, for attribute values, counted against the
    /// document's expansion budget: past it, `None` (the reference is then
    /// refused as unknown, and [`Entities::attributes_over_budget`] says
    /// why). Without the count, 20,000 references to an 8 KB entity in one
    /// attribute of a 68 KB document took 424 MB.
    pub fn get(&self, name: &str) -> Option<&str> {
        let text = self.map.get(name)?;
        let spent = self.in_attributes.get() + text.len();
        self.in_attributes.set(spent);
        (spent <= MAX_EXPANDED_BYTES).then_some(text.as_str())
    }

    /// The error for attribute values that went past the budget, if they
    /// did.
    pub fn attributes_over_budget(&self) -> Option<ParseError> {
        (self.in_attributes.get() > MAX_EXPANDED_BYTES).then(|| {
            forbidden(format!(
                "entity references in attribute values expand to more than \
                 {MAX_EXPANDED_BYTES} bytes"
            ))
        })
    }

    /// Starts the budget again, for a second reading of the same document
    /// (with the entities expanded in its text): its references were
    /// counted in the first.
    pub fn reset_budget(&mut self) {
        self.expanded = 0;
        self.in_attributes.set(0);
    }
}

/// Markup in which `&` starts no reference, with how it ends.
const VERBATIM: &[(&str, &str)] = &[("<![CDATA[", "]]>"), ("<!--", "-->"), ("<?", "?>")];

/// The name of the reference `after` (the text after a `&`) starts with:
/// up to a `;` at most [`MAX_REFERENCE`] bytes on, else none. Looking no
/// further keeps a long run of `&` without `;` linear: searching the whole
/// rest for each of them took minutes for a few megabytes.
fn reference_name(after: &str) -> Option<&str> {
    let window = after
        .as_bytes()
        .get(..=MAX_REFERENCE)
        .unwrap_or(after.as_bytes());
    let end = window.iter().position(|b| *b == b';')?;
    after.get(..end)
}

fn too_large(name: &str) -> ParseError {
    forbidden(format!(
        "entity `{name}` expands without bound (more than {MAX_ENTITY_BYTES} bytes, or \
         {MAX_AMPLIFICATION} times its value): a \"billion laughs\" attack?"
    ))
}

fn forbidden(message: String) -> ParseError {
    ParseError::new(ErrorKind::ForbiddenDtd, message)
}

fn char_reference(reference: &str) -> Option<char> {
    let number = reference.strip_prefix('#')?;
    let value = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(value)
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The declaration up to its `>` (quotes respected), and what follows.
fn split_declaration(text: &str) -> (&str, &str) {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return (&text[..i], &text[i + 1..]),
            _ => {}
        }
    }
    (text, "")
}

/// Whitespace-separated tokens, a quoted string being one token (quotes kept).
struct Tokens<'a>(&'a str);

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let text = self.0.trim_start();
        let first = text.chars().next()?;
        let end = if first == '"' || first == '\'' {
            text[1..].find(first).map_or(text.len(), |e| e + 2)
        } else {
            text.find(char::is_whitespace).unwrap_or(text.len())
        };
        self.0 = &text[end..];
        Some(&text[..end])
    }
}

fn unquote(token: &str) -> Option<&str> {
    let first = token.chars().next()?;
    if (first == '"' || first == '\'') && token.len() >= 2 && token.ends_with(first) {
        Some(&token[1..token.len() - 1])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_internal_entities() {
        let mut e = Entities::from_doctype(
            "NewsML [\n<!ENTITY nbsp \"&#160;\">\n<!ENTITY agency 'AFP &amp; co'>\n\
             <!ENTITY full \"&agency; &#x41;\">\n<!ENTITY % local SYSTEM \"local.dtd\">\n\
             <!ELEMENT NewsML ANY>]",
        )
        .unwrap();
        assert_eq!(e.resolve("nbsp").unwrap(), Some("\u{a0}"));
        assert_eq!(e.resolve("full").unwrap(), Some("AFP & co A"));
        assert_eq!(e.resolve("local").unwrap(), None);
        assert!(Entities::from_doctype("nitf SYSTEM \"nitf.dtd\"")
            .unwrap()
            .map
            .is_empty());
    }

    #[test]
    fn refuses_small_billion_laughs_too() {
        let err = Entities::from_doctype(
            "lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\
             <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]",
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
        assert!(err.message.contains("billion laughs"), "{err}");
    }

    #[test]
    fn refuses_what_is_dangerous() {
        let err =
            Entities::from_doctype("x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]").unwrap_err();
        assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
        let err = Entities::from_doctype("x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]").unwrap_err();
        assert!(err.message.contains("billion laughs"), "{err}");
        // Many references to one big entity: the document budget.
        let big = "x".repeat(MAX_ENTITY_BYTES);
        let mut e = Entities::from_doctype(&format!("x [<!ENTITY big \"{big}\">]")).unwrap();
        let mut result = Ok(None);
        for _ in 0..=(MAX_EXPANDED_BYTES / MAX_ENTITY_BYTES) {
            result = e.resolve("big").map(|t| t.map(str::len));
        }
        assert_eq!(result.unwrap_err().kind, ErrorKind::ForbiddenDtd);
    }

    fn entities(subset: &str) -> Entities {
        Entities::from_doctype(&format!("x [{subset}]")).unwrap()
    }

    #[test]
    fn long_runs_of_bare_ampersands_are_read_in_one_pass() {
        // 300,000 `&` without a `;`: each used to search the whole rest.
        let run = "&".repeat(300_000);
        let mut e = entities("<!ENTITY e \"x\">");
        let cdata = format!("<p><![CDATA[{run}]]></p>");
        assert_eq!(e.expand_in(&cdata).unwrap(), cdata);
        let comment = format!("<p><!--{run}--></p>");
        assert_eq!(e.expand_in(&comment).unwrap(), comment);
        // A reference right after the run is still found.
        assert_eq!(
            e.expand_in(&format!("{run}&e;")).unwrap(),
            format!("{run}x")
        );

        // In a value, the run stops at the per-entity limit.
        let err = Entities::from_doctype(&format!("x [<!ENTITY e \"{run}\">]")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ForbiddenDtd);
        assert!(err.message.contains("more than 8192 bytes"), "{err}");
        // Bare `&` under the limit stay as they are.
        let e = entities("<!ENTITY e \"a & b &c d\">");
        assert_eq!(e.get("e"), Some("a & b &c d"));
    }

    #[test]
    fn references_are_names_of_at_most_64_bytes() {
        assert_eq!(reference_name("amp; rest"), Some("amp"));
        assert_eq!(
            reference_name(&format!("{};", "n".repeat(64))).map(str::len),
            Some(64)
        );
        assert_eq!(reference_name(&format!("{};", "n".repeat(65))), None);
        assert_eq!(reference_name("no semicolon"), None);
        assert_eq!(reference_name("é;"), Some("é"));
    }

    #[test]
    fn cdata_comments_and_instructions_are_not_expanded() {
        let mut e = entities("<!ENTITY T \"Telegraph\">");
        let markup = "<p>AT&T;<![CDATA[AT&T; stays]]><!-- &T; --><?pi &T;?>&T;</p>";
        assert_eq!(
            e.expand_in(markup).unwrap(),
            "<p>ATTelegraph<![CDATA[AT&T; stays]]><!-- &T; --><?pi &T;?>Telegraph</p>"
        );
        // Unclosed, the rest is copied and left to the parser to refuse.
        assert_eq!(e.expand_in("<p><![CDATA[&T;").unwrap(), "<p><![CDATA[&T;");
    }

    #[test]
    fn replacements_in_attributes_keep_their_quotes_escaped() {
        let mut e = entities("<!ENTITY q 'the \"best\" & <co>'><!ENTITY a \"it's\">");
        assert_eq!(
            e.expand_in("<p class=\"&q;\" title='a>&a;'>&q; &a;</p>")
                .unwrap(),
            "<p class=\"the &quot;best&quot; &amp; &lt;co&gt;\" title='a>it&apos;s'>\
             the \"best\" &amp; &lt;co&gt; it's</p>"
        );
    }
}
