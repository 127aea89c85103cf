//! A small element tree built from quick-xml events.
//!
//! The wire formats are read by walking paths (`itemMeta/versionCreated`),
//! which a tree makes plain; documents are bounded by [`crate::Limits`], so
//! holding one in memory is fine. Each element remembers where it is in the
//! source, so bodies are cut out exactly as sent instead of re-serialised.
//!
//! Elements are matched by namespace URI and local name, never by the
//! prefix a document chose (see [`Element::child`]).
//!
//! No DTD is loaded: a DOCTYPE's internal entities are read with bounded
//! expansion and external ones refused ([`super::dtd`]), and other entity
//! references resolve only to XML's five, character references and the
//! HTML5 named entities (which NITF and feeds use, relying on a DTD we never
//! load).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use quick_xml::encoding::Decoder;
use quick_xml::escape::resolve_html5_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::dtd::Entities;
use super::syntax_error;
use crate::limits::MAX_ELEMENTS;
use crate::{ErrorKind, ParseError};

/// Deeper documents are refused: no wire format needs it, and it bounds the
/// recursion of walking (and dropping) the tree.
const MAX_DEPTH: usize = 256;

/// Longer namespace URIs are refused. Real ones are a few dozen bytes; a
/// long one is held once per document ([`Element::ns`] shares it), but it
/// is still no name anyone needs.
pub(crate) const MAX_NAMESPACE_BYTES: usize = 2 * 1024;

#[derive(Debug)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug)]
pub(crate) struct Element {
    /// The qualified name as written (`dc:creator`), shared like
    /// [`Element::ns`]: a feed repeats a handful of names many times.
    pub name: Arc<str>,
    /// The namespace URI the name resolves to; empty for none. Shared by
    /// every element in that namespace: a copy each made a megabyte URI
    /// over a million `<a/>` take gigabytes.
    pub ns: Arc<str>,
    /// Qualified names and unescaped values.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// The whole element in the source, tags included.
    pub outer: Range<usize>,
    /// The content between the tags.
    pub inner: Range<usize>,
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Namespaces a query may name by a prefix of ours (`dc:creator`),
/// whatever prefix the document uses for them; the first URI of each is
/// also what an undeclared prefix of that name is taken to mean.
const KNOWN: &[(&str, &[&str])] = &[
    (
        "atom",
        &["http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"],
    ),
    (
        "dc",
        &[
            "http://purl.org/dc/elements/1.1/",
            "http://purl.org/dc/terms/",
        ],
    ),
    ("content", &["http://purl.org/rss/1.0/modules/content/"]),
    ("rdf", &["http://www.w3.org/1999/02/22-rdf-syntax-ns#"]),
    ("media", &["http://search.yahoo.com/mrss/"]),
    ("xhtml", &["http://www.w3.org/1999/xhtml"]),
];

/// Extension namespaces whose elements reuse the local names of the formats
/// they extend (`atom:link` in an RSS channel, `media:content` in an entry,
/// `dc:title`): an unprefixed query never matches them from outside.
const MODULES: &[&str] = &[
    "http://www.w3.org/2005/Atom",
    "http://purl.org/atom/ns#",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://purl.org/rss/1.0/modules/content/",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://search.yahoo.com/mrss/",
    "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "http://purl.org/rss/1.0/modules/slash/",
    "http://wellformedweb.org/CommentAPI/",
    "http://purl.org/syndication/thread/1.0",
];

/// The URIs a query prefix of ours stands for.
fn known(prefix: &str) -> &'static [&'static str] {
    KNOWN
        .iter()
        .find(|(p, _)| *p == prefix)
        .map_or(&[], |(_, uris)| uris)
}

impl Element {
    pub fn local_name(&self) -> &str {
        local(&self.name)
    }

    /// Whether `element`, a descendant of `self`, answers the query `name`:
    /// `prefix:local` (a prefix of [`KNOWN`]) matches that namespace; a
    /// bare `local` matches that local name in `self`'s own namespace or in
    /// any namespace that is not an extension module of [`MODULES`] (so
    /// that documents which put a format in another namespace, or in none,
    /// still read).
    fn answers(&self, element: &Element, name: &str) -> bool {
        match name.split_once(':') {
            Some((prefix, local)) => {
                element.local_name() == local && known(prefix).contains(&&*element.ns)
            }
            None => {
                element.local_name() == name
                    && (element.ns == self.ns || !MODULES.contains(&&*element.ns))
            }
        }
    }

    /// An attribute by qualified name (`xml:lang`), else by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        let found = self.attrs.iter().find(|(k, _)| k == name);
        let found = found.or_else(|| self.attrs.iter().find(|(k, _)| local(k) == name));
        found.map(|(_, v)| v.as_str())
    }

    /// A non-blank attribute value, trimmed.
    pub fn attr_text(&self, name: &str) -> Option<String> {
        self.attr(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements that answer `name` (see [`Element::answers`]).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| self.answers(e, name))
    }

    /// The first child that answers `name` (see [`Element::answers`]).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| self.answers(e, name))
    }

    /// The element at a `/`-separated path of names below this one.
    pub fn at(&self, path: &str) -> Option<&Element> {
        path.split('/').try_fold(self, |e, name| e.child(name))
    }

    /// The first element that answers `name` at any depth, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.find_below(self, name)
    }

    fn find_below<'a>(&self, element: &'a Element, name: &str) -> Option<&'a Element> {
        element.elements().find_map(|e| {
            if self.answers(e, name) {
                Some(e)
            } else {
                self.find_below(e, name)
            }
        })
    }

    /// Every element that answers `name` at any depth, in document order
    /// (an answer's own descendants are not searched).
    pub fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        self.collect_below(self, name, &mut out);
        out
    }

    fn collect_below<'a>(&self, element: &'a Element, name: &str, out: &mut Vec<&'a Element>) {
        for e in element.elements() {
            if self.answers(e, name) {
                out.push(e);
            } else {
                self.collect_below(e, name, out);
            }
        }
    }

    /// The text inside, with a space where two elements' texts would
    /// otherwise glue two words together (`<byline>By X<byttl>AP
    /// Writer</byttl>` is `By X AP Writer`); `None` when blank. For the
    /// short lines (headlines, bylines), where markup separates parts.
    pub fn spaced_text(&self) -> Option<String> {
        let mut out = String::new();
        self.push_spaced(&mut out);
        let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
        (!collapsed.is_empty()).then_some(collapsed)
    }

    fn push_spaced(&self, out: &mut String) {
        let mut after_element = false;
        for node in &self.children {
            let (piece, is_element) = match node {
                Node::Text(t) => (Cow::Borrowed(t.as_str()), false),
                Node::Element(e) => {
                    let mut inner = String::new();
                    e.push_spaced(&mut inner);
                    (Cow::Owned(inner), true)
                }
            };
            let boundary = is_element || after_element;
            let glues = out.chars().next_back().is_some_and(char::is_alphanumeric)
                && piece.chars().next().is_some_and(char::is_alphanumeric);
            if boundary && glues {
                out.push(' ');
            }
            out.push_str(&piece);
            after_element = is_element;
        }
    }

    /// All the text inside, markup removed, trimmed; `None` when blank.
    pub fn text(&self) -> Option<String> {
        let mut out = String::new();
        self.push_text(&mut out);
        let trimmed = out.trim();
        match trimmed.len() {
            0 => None,
            n if n == out.len() => Some(out),
            _ => Some(trimmed.to_owned()),
        }
    }

    fn push_text(&self, out: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => e.push_text(out),
            }
        }
    }

    /// The text at a path (see [`Element::at`]).
    pub fn text_at(&self, path: &str) -> Option<String> {
        self.at(path).and_then(Element::text)
    }

    /// The content between the tags, exactly as in `source`, trimmed.
    pub fn inner_xml<'s>(&self, source: &'s str) -> &'s str {
        source.get(self.inner.clone()).unwrap_or_default().trim()
    }
}

/// Namespace declarations in scope: per prefix (the default namespace's is
/// empty), the URIs bound to it, innermost last, and per open element the
/// prefixes it bound. A lookup is one probe however many declarations are
/// in scope (scanning them all, 60,000 declarations on a root made 240,000
/// elements take 7.7 s). Each URI (and element name) is held once
/// ([`Scopes::strings`]) and shared by the elements that use it.
#[derive(Default)]
struct Scopes {
    bound: HashMap<String, Vec<Arc<str>>>,
    frames: Vec<Vec<String>>,
    strings: HashSet<Arc<str>>,
}

impl Scopes {
    fn push(&mut self, attrs: &[(String, String)]) -> Result<(), ParseError> {
        let mut frame = Vec::new();
        for (key, uri) in attrs {
            let prefix = match key.as_str() {
                "xmlns" => "",
                key => match key.strip_prefix("xmlns:") {
                    Some(prefix) => prefix,
                    None => continue,
                },
            };
            if uri.len() > MAX_NAMESPACE_BYTES {
                return Err(ParseError::new(
                    ErrorKind::TooLarge,
                    format!(
                        "the namespace URI of {key} is {} bytes, more than the \
                         {MAX_NAMESPACE_BYTES} allowed",
                        uri.len()
                    ),
                ));
            }
            let uri = self.intern(uri);
            self.bound.entry(prefix.to_owned()).or_default().push(uri);
            frame.push(prefix.to_owned());
        }
        self.frames.push(frame);
        Ok(())
    }

    fn pop(&mut self) {
        for prefix in self.frames.pop().unwrap_or_default() {
            if let Some(uris) = self.bound.get_mut(&prefix) {
                uris.pop();
                if uris.is_empty() {
                    self.bound.remove(&prefix);
                }
            }
        }
    }

    fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.strings.insert(Arc::clone(&shared));
        shared
    }

    /// The URI of a qualified name's prefix. An undeclared prefix that names
    /// a namespace we know (`dc:` in a sloppy feed) means that namespace;
    /// any other undeclared prefix stays unresolved (empty).
    fn resolve(&mut self, name: &str) -> Arc<str> {
        let prefix = name.rsplit_once(':').map_or("", |(p, _)| p);
        if prefix == "xml" {
            return self.intern("http://www.w3.org/XML/1998/namespace");
        }
        let declared = self
            .bound
            .get(prefix)
            .and_then(|uris| uris.last())
            .map(Arc::clone);
        match declared {
            Some(uri) => uri,
            None => self.intern(known(prefix).first().copied().unwrap_or_default()),
        }
    }
}

/// A parsed tree, with what its DOCTYPE declared.
pub(crate) struct Tree {
    pub root: Element,
    pub entities: Entities,
    /// Where the DOCTYPE ends in the source (0 without one).
    pub doctype_end: usize,
}

/// Parses well-formed XML (already decoded to UTF-8) into its root element.
pub(crate) fn parse_tree(source: &str) -> Result<Tree, ParseError> {
    let bytes = source.as_bytes();
    let mut reader = Reader::from_str(source);
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes = Scopes::default();
    let mut entities = Entities::default();
    let mut doctype_end = 0;
    let mut root = None;
    let mut elements = 0usize;
    loop {
        let start = position(reader.buffer_position());
        let event = reader
            .read_event()
            .map_err(|e| syntax_error(&e, bytes, reader.error_position()))?;
        let end = position(reader.buffer_position());
        let at = |e: ParseError| e.at_offset(bytes, start);
        match event {
            Event::DocType(doctype) => {
                entities =
                    Entities::from_doctype(&String::from_utf8_lossy(&doctype)).map_err(at)?;
                doctype_end = end;
            }
            Event::Start(_) | Event::Empty(_) if elements >= MAX_ELEMENTS => {
                return Err(at(ParseError::new(
                    ErrorKind::TooLarge,
                    format!("the document has more than {MAX_ELEMENTS} elements, the most allowed"),
                )));
            }
            Event::Start(tag) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(at(ParseError::new(
                        ErrorKind::InvalidXml,
                        format!("elements are nested deeper than {MAX_DEPTH} levels"),
                    )));
                }
                let element = element(&tag, reader.decoder(), &entities, &mut scopes, start..end)
                    .map_err(at)?;
                stack.push(element);
            }
            Event::Empty(tag) => {
                elements += 1;
                let element = element(&tag, reader.decoder(), &entities, &mut scopes, start..end)
                    .map_err(at)?;
                scopes.pop();
                attach(&mut stack, &mut root, element).map_err(at)?;
            }
            Event::End(_) => {
                // quick-xml checks that end tags match, so the stack is not empty.
                if let Some(mut element) = stack.pop() {
                    scopes.pop();
                    element.inner.end = start;
                    element.outer.end = end;
                    attach(&mut stack, &mut root, element).map_err(at)?;
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|e| at(xml_error(e.to_string())))?;
                if stack.is_empty() && !text.trim().is_empty() {
                    return Err(at(xml_error("text outside the root element".to_owned())));
                }
                push_text(&mut stack, &text);
            }
            Event::CData(text) => {
                let text = text.decode().map_err(|e| at(xml_error(e.to_string())))?;
                push_text(&mut stack, &text);
            }
            Event::GeneralRef(reference) => {
                let name = String::from_utf8_lossy(&reference).into_owned();
                if let Some(text) = entities.resolve(&name).map_err(at)? {
                    let text = text.to_owned();
                    push_text(&mut stack, &text);
                    continue;
                }
                let mut buf = [0; 4];
                let text = match resolve(&reference).map_err(at)? {
                    Resolved::Str(s) => s,
                    Resolved::Char(c) => c.encode_utf8(&mut buf),
                };
                push_text(&mut stack, text);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(xml_error(format!(
            "the document ends inside <{}>, which is never closed (truncated?)",
            open.name
        ))
        .at_offset(bytes, bytes.len()));
    }
    let root = root.ok_or_else(|| xml_error("the XML document has no root element".to_owned()))?;
    Ok(Tree {
        root,
        entities,
        doctype_end,
    })
}

fn position(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

fn xml_error(message: String) -> ParseError {
    ParseError::new(ErrorKind::InvalidXml, message)
}

/// The element a start (or empty) tag at `span` opens, its namespace
/// declarations pushed on `scopes` (for the caller to pop at its end).
fn element(
    tag: &BytesStart,
    decoder: Decoder,
    entities: &Entities,
    scopes: &mut Scopes,
    span: Range<usize>,
) -> Result<Element, ParseError> {
    let name = scopes.intern(&String::from_utf8_lossy(tag.name().as_ref()));
    let mut attrs = Vec::new();
    // quick-xml's own duplicate check compares every attribute with every
    // earlier one: 200,000 attributes (2 MB) took minutes. A set does it in
    // linear time.
    let mut seen = HashSet::new();
    for attr in tag.attributes().with_checks(false) {
        let attr = attr.map_err(|e| xml_error(format!("in <{name}>: {e}")))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        if !seen.insert(attr.key.0) {
            return Err(xml_error(format!(
                "in <{name}>: duplicated attribute {key}"
            )));
        }
        let value = attr
            .decode_and_unescape_value_with(decoder, |name| {
                entities.get(name).or_else(|| resolve_html5_entity(name))
            })
            .map_err(|e| {
                entities
                    .attributes_over_budget()
                    .unwrap_or_else(|| xml_error(format!("in attribute {key} of <{name}>: {e}")))
            })?;
        attrs.push((key, value.into_owned()));
    }
    scopes.push(&attrs)?;
    let ns = scopes.resolve(&name);
    Ok(Element {
        name,
        ns,
        attrs,
        children: Vec::new(),
        inner: span.end..span.end,
        outer: span,
    })
}

/// A resolved reference: a string for named entities, a char for `&#…;`.
enum Resolved {
    Str(&'static str),
    Char(char),
}

fn resolve(reference: &BytesRef) -> Result<Resolved, ParseError> {
    if let Some(c) = reference
        .resolve_char_ref()
        .map_err(|e| xml_error(e.to_string()))?
    {
        return Ok(Resolved::Char(c));
    }
    let name = String::from_utf8_lossy(reference);
    resolve_html5_entity(&name)
        .map(Resolved::Str)
        .ok_or_else(|| {
            xml_error(format!(
                "unknown entity `&{name};`: only XML's predefined entities, character references \
             and HTML entities are accepted, as DTDs are not read"
            ))
        })
}

fn push_text(stack: &mut [Element], text: &str) {
    // Outside the root there is only whitespace, which is dropped.
    let Some(parent) = stack.last_mut() else {
        return;
    };
    if let Some(Node::Text(last)) = parent.children.last_mut() {
        last.push_str(text);
    } else {
        parent.children.push(Node::Text(text.to_owned()));
    }
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), ParseError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None if root.is_some() => {
            return Err(xml_error(format!(
                "a second root element <{}>",
                element.name
            )));
        }
        None => *root = Some(element),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(source: &str) -> Element {
        parse_tree(source).unwrap().root
    }

    #[test]
    fn elements_share_their_namespace_uri() {
        let root = root(
            "<rss xmlns=\"urn:feed\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><a/><a/>\
             <dc:creator/><b xmlns=\"urn:feed\"/><c xmlns=\"\"/><xml:x/><media:y/></rss>",
        );
        let children: Vec<&Element> = root.elements().collect();
        assert_eq!(&*root.ns, "urn:feed");
        // One allocation for the URI, however many elements are in it
        // (a declaration repeating it included).
        assert!(Arc::ptr_eq(&root.ns, &children[0].ns));
        assert!(Arc::ptr_eq(&children[0].ns, &children[1].ns));
        assert!(Arc::ptr_eq(&root.ns, &children[3].ns));
        assert!(Arc::ptr_eq(&children[0].name, &children[1].name));
        assert_eq!(&*children[2].ns, "http://purl.org/dc/elements/1.1/");
        assert_eq!(&*children[4].ns, "");
        assert_eq!(&*children[5].ns, "http://www.w3.org/XML/1998/namespace");
        assert_eq!(&*children[6].ns, "http://search.yahoo.com/mrss/");
        assert!(root.child("dc:creator").is_some());
    }

    #[test]
    fn declarations_go_out_of_scope_with_their_element() {
        let root = root(
            "<r xmlns:p=\"urn:outer\"><a xmlns:p=\"urn:inner\"><p:x/></a><p:y/>\
             <b xmlns=\"urn:d\"><z/></b><z/></r>",
        );
        let a = root.child("a").unwrap();
        assert_eq!(&*a.elements().next().unwrap().ns, "urn:inner");
        let names: Vec<(&str, &str)> = root.elements().map(|e| (&*e.name, &*e.ns)).collect();
        assert_eq!(
            names,
            [("a", ""), ("p:y", "urn:outer"), ("b", "urn:d"), ("z", "")]
        );
        let b = root.child("b").unwrap();
        assert_eq!(&*b.elements().next().unwrap().ns, "urn:d");
    }

    #[test]
    fn refuses_long_namespace_uris() {
        let at_limit = "n".repeat(MAX_NAMESPACE_BYTES);
        assert!(parse_tree(&format!("<rss xmlns=\"{at_limit}\"><a/></rss>")).is_ok());
        let long = "n".repeat(MAX_NAMESPACE_BYTES + 1);
        for source in [
            format!("<rss xmlns=\"{long}\"><a/></rss>"),
            format!("<rss><a xmlns:p=\"{long}\"/></rss>"),
        ] {
            let Err(err) = parse_tree(&source) else {
                panic!("a namespace URI of {} bytes was accepted", long.len());
            };
            assert_eq!(err.kind, ErrorKind::TooLarge);
            assert!(err.message.contains("2048"), "{err}");
        }
    }

    #[test]
    fn refuses_documents_of_too_many_elements() {
        let at_limit = format!("<r>{}</r>", "<a/>".repeat(MAX_ELEMENTS - 1));
        assert_eq!(root(&at_limit).elements().count(), MAX_ELEMENTS - 1);
        for extra in ["<a/>", "<a></a>"] {
            let source = format!("<r>{}{extra}</r>", "<a/>".repeat(MAX_ELEMENTS - 1));
            let Err(err) = parse_tree(&source) else {
                panic!("{} elements were accepted", MAX_ELEMENTS + 1);
            };
            assert_eq!(err.kind, ErrorKind::TooLarge);
            assert!(err.message.contains("500000 elements"), "{err}");
        }
    }
}
