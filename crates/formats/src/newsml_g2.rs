//! NewsML-G2: a `newsItem`, or a `newsMessage` whose `itemSet` carries
//! several.

use wirestream_model::{Body, BodyKind, Format, RawItem, Subject};

use crate::common::{self, derived_uri, new_item, provider, uri_authority};
use crate::xml::{Document, Element};
use crate::{nitf, Context, ErrorKind, ParseError};

pub(crate) fn parse(doc: &Document, ctx: &Context) -> Result<Vec<RawItem>, ParseError> {
    let root = &doc.root;
    if root.local_name() == "newsItem" {
        return Ok(vec![item(doc, root, doc.bytes(), ctx)?]);
    }
    let items: Vec<&Element> = root
        .child("itemSet")
        .map(|s| s.all("newsItem").collect())
        .unwrap_or_default();
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

/// One `newsItem`.
///
/// * id: `@guid` (else derived from the item's bytes), version `@version`;
/// * provider: `itemMeta/provider` (`@uri` authority, `@qcode` code or
///   `name`), else the copyright holder's name, else the guid's authority;
/// * `located` names go to `places`; `dateline` only from a `dateline`
///   element; byline from `by`, else the `creator` names;
/// * body: NITF `body.content` or XHTML `body` in `inlineXML` (HTML), else
///   `inlineData` (text, or HTML when its content type says so).
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
    item.headline = headlines.next().or(article.headline).unwrap_or_default();
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
            headlines: content.all("headline").filter_map(Element::text).collect(),
            slugline: content.text_at("slugline"),
            description: content.text_at("description"),
            dateline: content.text_at("dateline"),
            by: content.text_at("by"),
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
/// `@qcode` (`nprov:REUTERS` -> `REUTERS`), or its name.
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
}

/// The body of a `contentSet`, and the NITF article when that is what it
/// carries (its lines fill what `contentMeta` lacks).
fn body(doc: &Document, content_set: Option<&Element>) -> (Option<Body>, Option<nitf::Article>) {
    let Some(content_set) = content_set else {
        return (None, None);
    };
    for inline in content_set.all("inlineXML") {
        let Some(first) = inline.elements().next() else {
            continue;
        };
        match first.local_name() {
            "nitf" => {
                let mut article = nitf::article(first, &doc.source);
                return (article.body.take(), Some(article));
            }
            "html" => {
                let body = first.child("body").unwrap_or(first);
                return (html(doc.inner_xml(body)), None);
            }
            _ => return (html(doc.inner_xml(inline)), None),
        }
    }
    for inline in content_set.all("inlineData") {
        let html_type = inline
            .attr("contenttype")
            .is_some_and(|t| t.contains("html"));
        if let Some(text) = inline.text() {
            let kind = if html_type {
                BodyKind::Html
            } else {
                BodyKind::Text
            };
            return (Some(Body { kind, value: text }), None);
        }
    }
    (None, None)
}

fn html(markup: &str) -> Option<Body> {
    (!markup.is_empty()).then(|| Body {
        kind: BodyKind::Html,
        value: markup.to_owned(),
    })
}

#[cfg(test)]
mod tests;
