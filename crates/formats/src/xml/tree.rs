//! A small element tree built from quick-xml events.
//!
//! The wire formats are read by walking paths (`itemMeta/versionCreated`),
//! which a tree makes plain; documents are bounded by [`crate::Limits`], so
//! holding one in memory is fine. Each element remembers where it is in the
//! source, so bodies are cut out exactly as sent instead of re-serialised.
//!
//! No DTD is processed: a DOCTYPE that declares entities is refused (it is
//! how XXE and "billion laughs" attacks work), and entity references resolve
//! only to XML's five, character references and the HTML5 named entities
//! (which NITF and feeds use, relying on a DTD we never load).

use std::collections::HashSet;
use std::ops::Range;

use quick_xml::encoding::Decoder;
use quick_xml::escape::resolve_html5_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::{check_doctype, syntax_error};
use crate::{ErrorKind, ParseError};

/// Deeper documents are refused: no wire format needs it, and it bounds the
/// recursion of walking (and dropping) the tree.
const MAX_DEPTH: usize = 256;

#[derive(Debug)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug)]
pub(crate) struct Element {
    /// The qualified name as written (`dc:creator`).
    pub name: String,
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

impl Element {
    pub fn local_name(&self) -> &str {
        local(&self.name)
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

    /// Child elements with this local name. A prefix in `name` (`dc:creator`)
    /// is for the reader only: prefixes are the document's choice, and the
    /// formats never use one local name in two namespaces where we look.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        let name = local(name);
        self.elements().filter(move |e| e.local_name() == name)
    }

    /// The first child with this local name (see [`Element::all`]).
    pub fn child(&self, name: &str) -> Option<&Element> {
        let name = local(name);
        self.elements().find(|e| e.local_name() == name)
    }

    /// The element at a `/`-separated path of local names below this one.
    pub fn at(&self, path: &str) -> Option<&Element> {
        path.split('/').try_fold(self, |e, name| e.child(name))
    }

    /// The first element with this local name at any depth, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        let name = local(name);
        self.elements().find_map(|e| {
            if e.local_name() == name {
                Some(e)
            } else {
                e.find(name)
            }
        })
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

/// Parses well-formed XML (already decoded to UTF-8) into its root element.
pub(crate) fn parse_tree(source: &str) -> Result<Element, ParseError> {
    let bytes = source.as_bytes();
    let mut reader = Reader::from_str(source);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let start = position(reader.buffer_position());
        let event = reader
            .read_event()
            .map_err(|e| syntax_error(&e, bytes, reader.error_position()))?;
        let end = position(reader.buffer_position());
        let at = |e: ParseError| e.at_offset(bytes, start);
        match event {
            Event::DocType(doctype) => check_doctype(&doctype).map_err(at)?,
            Event::Start(tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(at(ParseError::new(
                        ErrorKind::InvalidXml,
                        format!("elements are nested deeper than {MAX_DEPTH} levels"),
                    )));
                }
                let element = element(&tag, reader.decoder(), start..end, end..end).map_err(at)?;
                stack.push(element);
            }
            Event::Empty(tag) => {
                let element = element(&tag, reader.decoder(), start..end, end..end).map_err(at)?;
                attach(&mut stack, &mut root, element).map_err(at)?;
            }
            Event::End(_) => {
                // quick-xml checks that end tags match, so the stack is not empty.
                if let Some(mut element) = stack.pop() {
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
    root.ok_or_else(|| xml_error("the XML document has no root element".to_owned()))
}

fn position(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

fn xml_error(message: String) -> ParseError {
    ParseError::new(ErrorKind::InvalidXml, message)
}

fn element(
    tag: &BytesStart,
    decoder: Decoder,
    outer: Range<usize>,
    inner: Range<usize>,
) -> Result<Element, ParseError> {
    let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
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
            .decode_and_unescape_value_with(decoder, resolve_html5_entity)
            .map_err(|e| xml_error(format!("in attribute {key} of <{name}>: {e}")))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        outer,
        inner,
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
