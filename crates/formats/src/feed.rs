//! RSS (2.0 and 1.0/RDF) and Atom feeds: each `item` or `entry` is one item.
//!
//! Feeds name no provider, so the declared provider is the host of the
//! channel's (or feed's) link, and ids fall back to the item's link, then to
//! a hash of the item's own element.

use wirestream_model::{Body, BodyKind, Format, RawItem, Subject};

use crate::common::{derived_uri, html_line, new_item, provider, uri_authority};
use crate::xml::{Document, Element};
use crate::Context;

/// Parses an RSS 2.0 or RSS 1.0 (RDF) feed.
pub(crate) fn parse_rss(doc: &Document, ctx: &Context) -> Vec<RawItem> {
    let root = &doc.root;
    let channel = root.child("channel");
    // RSS 2.0 nests items in the channel; RSS 1.0 puts them beside it. An
    // item on its own is what a feed item's original is (its element, cut
    // out): a dead letter replayed to ingest comes back as one.
    let items: Vec<&Element> = if root.local_name() == "item" {
        vec![root]
    } else {
        channel
            .into_iter()
            .chain([root])
            .flat_map(|parent| parent.all("item"))
            .collect()
    };
    let site = channel
        .and_then(|c| own_text(c, "link"))
        .and_then(|l| uri_authority(&l));
    let language =
        channel.and_then(|c| own_text(c, "language").or_else(|| c.text_at("dc:language")));
    let copyright =
        channel.and_then(|c| own_text(c, "copyright").or_else(|| c.text_at("dc:rights")));

    items
        .into_iter()
        .map(|element| {
            let original = doc.original_of(element);
            let mut item = new_item(Format::Rss, original, ctx);
            let link = own_text(element, "link");
            item.uri = own_text(element, "guid")
                .or_else(|| element.attr_text("rdf:about"))
                .or_else(|| link.clone())
                .unwrap_or_else(|| derived_uri("rss", original));
            item.provider = provider(ctx, site.as_deref(), link.as_deref().unwrap_or(&item.uri));
            item.format_version = root.attr_text("version");
            // Plain text by the spec, kept as sent: tags feeds put in
            // titles (often in CDATA) are the worker's to remove.
            item.headline = own_text(element, "title").unwrap_or_default();
            let description = own_text(element, "description");
            let encoded = element.text_at("content:encoded");
            item.body = encoded.clone().or_else(|| description.clone()).map(html);
            // The description is a summary only when the full text is elsewhere.
            item.description = encoded.and(description);
            item.versioncreated =
                own_text(element, "pubDate").or_else(|| element.text_at("dc:date"));
            item.byline = element
                .text_at("dc:creator")
                .or_else(|| own_text(element, "author"));
            item.subjects = element
                .all("category")
                .chain(element.all("dc:subject"))
                .filter_map(|c| {
                    c.text().map(|name| Subject {
                        code: c.attr_text("domain"),
                        name: Some(name),
                    })
                })
                .collect();
            item.language = element.text_at("dc:language").or_else(|| language.clone());
            item.copyright = element.text_at("dc:rights").or_else(|| copyright.clone());
            item
        })
        .collect()
}

/// Parses an Atom feed, or a standalone Atom `entry` document (RFC 4287
/// allows one).
pub(crate) fn parse_atom(doc: &Document, ctx: &Context) -> Vec<RawItem> {
    let feed = &doc.root;
    let standalone = feed.local_name() == "entry";
    let feed_authors = authors(feed);
    let site = alternate_link(feed)
        .or_else(|| feed.text_at("id"))
        .and_then(|l| uri_authority(&l));
    let feed_language = feed.attr_text("xml:lang");
    let feed_rights = own_text(feed, "rights");

    let entries: Vec<&Element> = if standalone {
        vec![feed]
    } else {
        feed.all("entry").collect()
    };
    entries
        .into_iter()
        .map(|entry| {
            let original = doc.original_of(entry);
            let mut item = new_item(Format::Atom, original, ctx);
            let link = alternate_link(entry);
            item.uri = own_text(entry, "id")
                .or_else(|| link.clone())
                .unwrap_or_else(|| derived_uri("atom", original));
            item.provider = provider(ctx, site.as_deref(), link.as_deref().unwrap_or(&item.uri));
            item.headline = own(entry, "title").and_then(atom_line).unwrap_or_default();
            let summary = own_text(entry, "summary");
            let content = own(entry, "content").and_then(|c| atom_text(doc, c));
            item.body = content
                .clone()
                .or_else(|| own(entry, "summary").and_then(|s| atom_text(doc, s)));
            item.description = content.and(summary);
            item.versioncreated =
                own_text(entry, "updated").or_else(|| own_text(entry, "published"));
            item.firstcreated = own_text(entry, "published");
            item.byline = authors(entry).or_else(|| {
                // A standalone entry is its own feed: no feed-level author.
                (!standalone).then(|| feed_authors.clone()).flatten()
            });
            item.subjects = entry
                .all("category")
                .filter_map(|c| {
                    let (code, name) = (c.attr_text("term"), c.attr_text("label"));
                    (code.is_some() || name.is_some()).then_some(Subject { code, name })
                })
                .collect();
            item.language = entry
                .attr_text("xml:lang")
                .or_else(|| feed_language.clone());
            item.copyright = own_text(entry, "rights").or_else(|| feed_rights.clone());
            item
        })
        .collect()
}

/// The first child called `name` in `parent`'s own namespace (none for RSS
/// 2.0), else the first that answers `name` at all. A bare name also
/// answers elements of foreign namespaces (so that feeds which put the
/// format in one still read); preferring the format's own keeps
/// `<g:title>` or another vocabulary's `title` written before the item's
/// from taking its place.
fn own<'a>(parent: &'a Element, name: &str) -> Option<&'a Element> {
    parent
        .elements()
        .find(|e| e.ns == parent.ns && e.local_name() == name && !e.name.contains(':'))
        // Prefixed in the same namespace: a prefixed feed (`atom:title`),
        // or a prefix the document never declared.
        .or_else(|| {
            parent
                .elements()
                .find(|e| e.ns == parent.ns && e.local_name() == name)
        })
        .or_else(|| parent.child(name))
}

/// The text of [`own`]`(parent, name)`.
fn own_text(parent: &Element, name: &str) -> Option<String> {
    own(parent, name).and_then(Element::text)
}

/// An Atom text construct as a line (a title): `type="html"` without its
/// tags (its entities are left for the worker, as in every text field),
/// `type="xhtml"` the text of its `div`, else the text.
fn atom_line(element: &Element) -> Option<String> {
    let kind = element
        .attr("type")
        .unwrap_or("text")
        .trim()
        .to_ascii_lowercase();
    match kind.as_str() {
        "html" => element
            .text()
            .map(|t| html_line(&t))
            .filter(|t| !t.trim().is_empty()),
        "xhtml" => element
            .child("xhtml:div")
            .or_else(|| element.child("div"))
            .unwrap_or(element)
            .spaced_text(),
        _ => element.text(),
    }
}

/// The names of an entry's (or feed's) `author`s, joined.
fn authors(element: &Element) -> Option<String> {
    let names: Vec<String> = element
        .all("author")
        .filter_map(|a| a.text_at("name"))
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// The `href` of the `link` with `rel="alternate"` (the default rel).
fn alternate_link(element: &Element) -> Option<String> {
    element
        .all("link")
        .find(|l| !matches!(l.attr("rel"), Some(rel) if rel != "alternate"))
        .and_then(|l| l.attr_text("href"))
}

/// An Atom text construct as a body: `type="xhtml"` (or another XML type)
/// is the markup inside it (inside its `div` for xhtml), `type="html"` the
/// unescaped HTML, anything else text. Content with a `src` is elsewhere:
/// no body.
fn atom_text(doc: &Document, element: &Element) -> Option<Body> {
    let kind = element
        .attr("type")
        .unwrap_or("text")
        .trim()
        .to_ascii_lowercase();
    let markup = kind == "xhtml" || kind.ends_with("+xml") || kind.ends_with("/xml");
    if markup && element.elements().next().is_some() {
        let div = element
            .child("xhtml:div")
            .filter(|_| kind == "xhtml")
            .or_else(|| element.child("div").filter(|_| kind == "xhtml"))
            .unwrap_or(element);
        let inner = doc.inner_xml(div);
        return (!inner.is_empty()).then(|| html(inner.to_owned()));
    }
    if kind == "html" || kind.contains("html") {
        return element.text().map(html);
    }
    element.text().map(|value| Body {
        kind: BodyKind::Text,
        value,
    })
}

fn html(value: String) -> Body {
    Body {
        kind: BodyKind::Html,
        value,
    }
}

#[cfg(test)]
mod tests;
