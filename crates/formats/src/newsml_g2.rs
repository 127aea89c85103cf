//! NewsML-G2: a `newsItem`, a `packageItem`, or a `newsMessage` whose
//! `itemSet` carries several news items (at any depth, with any prefix).

use wirestream_model::{Body, BodyKind, Format, RawItem, Subject};

use crate::common::{self, derived_uri, new_item, provider, uri_authority};
use crate::xml::{Document, Element};
use crate::{nitf, Context, ErrorKind, ParseError};

pub(crate) fn parse(doc: &Document, ctx: &Context) -> Result<Vec<RawItem>, ParseError> {
    let root = &doc.root;
    match root.local_name() {
        "newsItem" => return Ok(vec![item(doc, root, doc.bytes(), ctx)?]),
        "packageItem" => return Ok(vec![package(doc, root, doc.bytes(), ctx)?]),
        _ => {}
    }
    // Items sit in the itemSet, at any depth (some senders wrap them), and
    // a message without an itemSet is searched whole. Package items in a
    // message only point at the news items beside them: skipped.
    let set = root.child("itemSet").unwrap_or(root);
    let items = set.find_all("newsItem");
    if items.is_empty() {
        return Err(ParseError::new(
            ErrorKind::Empty,
            "the newsMessage carries no newsItem in its itemSet",
        ));
    }
    items
        .into_iter()
        .map(|news_item| item(doc, news_item, doc.original_of(news_item), ctx))
        .collect()
}

/// A standalone `packageItem`: no text of its own, so its headline and the
/// titles and descriptions of the items its `groupSet` references, one
/// paragraph each, make the item.
fn package(
    doc: &Document,
    package: &Element,
    original: &[u8],
    ctx: &Context,
) -> Result<RawItem, ParseError> {
    let mut item = item(doc, package, original, ctx)?;
    let refs = package
        .child("groupSet")
        .map(|g| g.find_all("itemRef"))
        .unwrap_or_default();
    let paragraphs: Vec<String> = refs
        .iter()
        .flat_map(|r| {
            [r.child("title"), r.child("description")]
                .into_iter()
                .flatten()
                .filter_map(Element::spaced_text)
        })
        .collect();
    if item.headline.is_empty() {
        item.headline = paragraphs.first().cloned().unwrap_or_default();
    }
    if item.body.is_none() && !paragraphs.is_empty() {
        item.body = Some(Body {
            kind: BodyKind::Text,
            value: paragraphs.join("\n\n"),
        });
    }
    Ok(item)
}

/// One `newsItem`.
///
/// * id: `@guid` (else derived from the item's bytes), version `@version`;
/// * provider: `itemMeta/provider` (`@uri` authority, `@qcode` code or
///   `name`), else the copyright holder's name, else the guid's authority;
/// * `located` names go to `places`; `dateline` only from a `dateline`
///   element; byline from `by`, else the `creator` names;
/// * headline: `contentMeta/headline`, else NITF `hl1`, else `itemMeta/title`;
/// * body: the richest rendition of the `contentSet` (see [`body`]).
fn item(
    doc: &Document,
    news_item: &Element,
    original: &[u8],
    ctx: &Context,
) -> Result<RawItem, ParseError> {
    let meta = news_item.child("itemMeta");
    let content = news_item.child("contentMeta");
    let meta_text = |path: &str| meta.and_then(|m| m.text_at(path));
    let content_text = |path: &str| content.and_then(|c| c.text_at(path));

    let mut item = new_item(Format::NewsmlG2, original, ctx);
    item.uri = news_item
        .attr_text("guid")
        .unwrap_or_else(|| derived_uri("newsml-g2", original));
    item.version = common::version("newsItem/@version", news_item.attr("version"))?;
    item.format_version = news_item.attr_text("standardversion");

    let holder = news_item.at("rightsInfo/copyrightHolder");
    let holder_name = holder.and_then(|h| h.text_at("name"));
    let declared = meta
        .and_then(|m| m.child("provider"))
        .and_then(provider_name);
    item.provider = provider(
        ctx,
        declared.as_deref().or(holder_name.as_deref()),
        &item.uri,
    );
    item.copyright = holder_name.or_else(|| news_item.text_at("rightsInfo/copyrightNotice"));

    item.versioncreated = meta_text("versionCreated");
    let title = meta_text("title");
    item.firstcreated = meta_text("firstCreated").or_else(|| content_text("contentCreated"));
    item.embargoed = meta_text("embargoed");
    item.pubstatus = common::pubstatus(
        "itemMeta/pubStatus/@qcode",
        meta.and_then(|m| m.child("pubStatus"))
            .and_then(|p| p.attr("qcode")),
    )?;
    item.ednote = meta_text("edNote");
    item.urgency = common::urgency("contentMeta/urgency", content_text("urgency").as_deref())?;

    let lines = Lines::of(content);
    item.slugline = lines.slugline;
    item.description = lines.description;
    item.dateline = lines.dateline;
    item.byline = lines.by.or(lines.creators);
    item.language = content
        .and_then(|c| c.child("language"))
        .and_then(|l| l.attr_text("tag"))
        .or_else(|| news_item.attr_text("xml:lang"));
    item.subjects = content
        .map(|c| c.all("subject").map(concept).collect())
        .unwrap_or_default();
    item.places = content
        .map(|c| c.all("located").map(concept).collect())
        .unwrap_or_default();

    let mut headlines = lines.headlines.into_iter();
    let (body, article) = body(doc, news_item.child("contentSet"));
    item.body = body;
    let article = article.unwrap_or_default();
    item.headline = headlines
        .next()
        .or(article.headline)
        .or(title)
        .unwrap_or_default();
    item.subheadlines = headlines.chain(article.subheadlines).collect();
    item.byline = item.byline.or(article.byline);
    item.dateline = item.dateline.or(article.dateline);
    item.description = item.description.or(article.abstract_);
    Ok(item)
}

/// The headlines and other lines of `contentMeta`.
#[derive(Default)]
struct Lines {
    headlines: Vec<String>,
    slugline: Option<String>,
    description: Option<String>,
    dateline: Option<String>,
    by: Option<String>,
    creators: Option<String>,
}

impl Lines {
    fn of(content: Option<&Element>) -> Lines {
        let Some(content) = content else {
            return Lines::default();
        };
        let creators: Vec<String> = content
            .all("creator")
            .filter_map(|c| c.text_at("name").or_else(|| c.attr_text("literal")))
            .collect();
        Lines {
            headlines: content
                .all("headline")
                .filter_map(Element::spaced_text)
                .collect(),
            slugline: content.text_at("slugline"),
            description: content.text_at("description"),
            dateline: content.text_at("dateline"),
            by: content.child("by").and_then(Element::spaced_text),
            creators: (!creators.is_empty()).then(|| creators.join(", ")),
        }
    }
}

/// A `subject` or `located`: its qcode (or uri) and its first name.
fn concept(element: &Element) -> Subject {
    Subject {
        code: element
            .attr_text("qcode")
            .or_else(|| element.attr_text("uri")),
        name: element.text_at("name"),
    }
}

/// The provider an `itemMeta/provider` names: the authority of its `@uri`
/// (`http://www.acmenews.com/about/` -> `acmenews.com`), the code of its
/// `@qcode` (`nprov:REUTERS` -> `REUTERS`), its name, or its `@literal`.
fn provider_name(provider: &Element) -> Option<String> {
    provider
        .attr("uri")
        .and_then(uri_authority)
        .or_else(|| {
            provider
                .attr_text("qcode")
                .map(|q| q.rsplit(':').next().unwrap_or(&q).to_owned())
        })
        .or_else(|| provider.text_at("name"))
        .or_else(|| provider.attr_text("literal"))
}

/// The body of a `contentSet`, and the NITF article when that is what it
/// carries (its lines fill what `contentMeta` lacks). Of several
/// renditions (`inlineXML`: NITF, XHTML or other markup; `inlineData`:
/// text, or HTML when its content type or its text says so), the richest
/// in text wins; the first on a tie.
fn body(doc: &Document, content_set: Option<&Element>) -> (Option<Body>, Option<nitf::Article>) {
    let Some(content_set) = content_set else {
        return (None, None);
    };
    let mut best: Option<(usize, Option<Body>, Option<nitf::Article>)> = None;
    for rendition in content_set.elements() {
        let (size, body, article) = match rendition.local_name() {
            "inlineXML" => {
                let size = rendition.text().map_or(0, |t| t.len());
                let (body, article) = inline_xml(doc, rendition);
                (size, body, article)
            }
            "inlineData" => {
                let body = inline_text(rendition);
                (body.as_ref().map_or(0, |b| b.value.len()), body, None)
            }
            _ => continue,
        };
        if body.is_some() && best.as_ref().is_none_or(|(s, _, _)| size > *s) {
            best = Some((size, body, article));
        }
    }
    best.map_or((None, None), |(_, body, article)| (body, article))
}

fn inline_xml(doc: &Document, inline: &Element) -> (Option<Body>, Option<nitf::Article>) {
    let Some(first) = inline.elements().next() else {
        // No element: the markup in CDATA, or plain text. Read like an
        // `inlineData`, or the body would be lost.
        return (inline_text(inline), None);
    };
    match first.local_name() {
        "nitf" => {
            let mut article = nitf::article(first, &doc.source);
            (article.body.take(), Some(article))
        }
        "html" => {
            let body = first.child("body").unwrap_or(first);
            let article = nitf::Article {
                headline: first.at("head/title").and_then(Element::spaced_text),
                ..nitf::Article::default()
            };
            (html(doc.inner_xml(body)), Some(article))
        }
        _ => (html(doc.inner_xml(inline)), None),
    }
}

/// The text of a rendition as a body: HTML when its content type says so
/// or the text is markup, else plain text.
fn inline_text(rendition: &Element) -> Option<Body> {
    let html_type = rendition
        .attr("contenttype")
        .is_some_and(|t| t.contains("html"));
    rendition.text().map(|text| match html_type {
        true => Body {
            kind: BodyKind::Html,
            value: text,
        },
        false => common::text_body(text),
    })
}

fn html(markup: &str) -> Option<Body> {
    (!markup.is_empty()).then(|| Body {
        kind: BodyKind::Html,
        value: markup.to_owned(),
    })
}

#[cfg(test)]
mod tests;
