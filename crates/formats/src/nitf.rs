//! NITF (News Industry Text Format), alone or embedded in NewsML.

use wirestream_model::{Body, BodyKind, Format, RawItem, Subject};

use crate::common::{self, derived_uri, new_item, provider};
use crate::xml::{Document, Element};
use crate::{Context, ParseError};

/// What the `body` of a NITF document says, shared with the NewsML parsers
/// that carry NITF as their content.
#[derive(Debug, Default)]
pub(crate) struct Article {
    pub headline: Option<String>,
    pub subheadlines: Vec<String>,
    pub byline: Option<String>,
    pub dateline: Option<String>,
    pub abstract_: Option<String>,
    pub body: Option<Body>,
}

/// The article in a `nitf` element: `body.head` for the lines (the
/// headline from `hedline/hl1`, sub-headlines from `hl2`, every `byline`,
/// the `dateline`, the `abstract`), and the markup of `body.content` as an
/// HTML body. Agency variants are read too: a `body` without `body.content`
/// (its own children, `body.head` and `body.end` left out), the lines
/// written inside `body.content`, `block` elements. `body.end` (taglines,
/// credits) is not body text.
pub(crate) fn article(nitf: &Element, source: &str) -> Article {
    let body = nitf.child("body").or_else(|| nitf.find("body"));
    let head = body.and_then(|b| b.child("body.head"));
    let content = body.and_then(|b| b.child("body.content"));
    // Some agencies write the lines inside body.content.
    let lines = |name: &str| {
        head.and_then(|h| h.find(name))
            .or_else(|| content.and_then(|c| c.child(name)))
    };
    let hedline = lines("hedline");
    let bylines: Vec<String> = head
        .into_iter()
        .chain(content)
        .flat_map(|e| e.all("byline"))
        .filter_map(byline)
        .collect();
    let markup = match content {
        // The whole body in CDATA (`<body.content><![CDATA[<p>…</p>]]>`):
        // its text is the markup, or plain text. Kept as written, the
        // CDATA section would be read as a literal, tags and all.
        Some(content)
            if content.elements().next().is_none()
                && content.inner_xml(source).contains("<![CDATA[") =>
        {
            let body = content.text().map(common::text_body);
            return Article {
                body,
                ..article_lines(hedline, bylines, &lines)
            };
        }
        Some(content) => content.inner_xml(source).to_owned(),
        // No body.content: the body's own children but for the head and end.
        None => body
            .map(|b| {
                b.elements()
                    .filter(|e| !matches!(e.local_name(), "body.head" | "body.end"))
                    .map(|e| source.get(e.outer.clone()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
    };
    Article {
        body: (!markup.trim().is_empty()).then(|| Body {
            kind: BodyKind::Html,
            value: markup.trim().to_owned(),
        }),
        ..article_lines(hedline, bylines, &lines)
    }
}

/// The lines of an article (everything but its body).
fn article_lines<'a>(
    hedline: Option<&Element>,
    bylines: Vec<String>,
    lines: &impl Fn(&str) -> Option<&'a Element>,
) -> Article {
    Article {
        headline: hedline
            .and_then(|h| h.child("hl1"))
            .and_then(Element::spaced_text),
        subheadlines: hedline
            .map(|h| h.all("hl2").filter_map(Element::spaced_text).collect())
            .unwrap_or_default(),
        byline: (!bylines.is_empty()).then(|| bylines.join(", ")),
        dateline: lines("dateline").and_then(Element::spaced_text),
        abstract_: lines("abstract").and_then(Element::spaced_text),
        body: None,
    }
}

/// A `byline`'s text, its `byttl` (the writer's title) set off by a comma:
/// `By BERNARD CONDON, AP Business Writer`.
fn byline(element: &Element) -> Option<String> {
    let text = element.spaced_text()?;
    let Some(title) = element.child("byttl").and_then(Element::spaced_text) else {
        return Some(text);
    };
    match text.strip_suffix(&title) {
        Some(name) if !name.trim().is_empty() && !name.trim_end().ends_with(',') => {
            Some(format!("{}, {title}", name.trim_end()))
        }
        _ => Some(text),
    }
}

/// Parses a NITF document.
///
/// The id is `docdata/doc-id/@id-string`, else derived from the bytes
/// (`urn:wirestream:nitf:…`); the version is `du-key/@version`; the declared
/// provider is `doc-id/@regsrc`, else `doc.copyright/@holder`.
pub(crate) fn parse(doc: &Document, ctx: &Context) -> Result<RawItem, ParseError> {
    let nitf = &doc.root;
    let head = nitf.child("head");
    let docdata = head.and_then(|h| h.child("docdata"));
    let doc_data = |path: &str, attr: &str| {
        docdata
            .and_then(|d| d.at(path))
            .and_then(|e| e.attr_text(attr))
    };

    let mut item = new_item(Format::Nitf, doc.bytes(), ctx);
    item.uri = doc_data("doc-id", "id-string").unwrap_or_else(|| derived_uri("nitf", doc.bytes()));
    let holder = doc_data("doc.copyright", "holder");
    let declared = doc_data("doc-id", "regsrc").or_else(|| holder.clone());
    item.provider = provider(ctx, declared.as_deref(), &item.uri);
    item.format_version = nitf.attr("version").and_then(nitf_version);
    item.version = common::version("du-key/@version", doc_data("du-key", "version").as_deref())?;
    item.urgency = common::urgency("urgency/@ed-urg", doc_data("urgency", "ed-urg").as_deref())?;
    item.versioncreated = doc_data("date.issue", "norm");
    item.embargoed = doc_data("date.release", "norm");
    // NITF 3.x `docdata/@management-status`: usable, embargoed, withheld or
    // canceled (a kill). Read like every format's status.
    item.pubstatus = common::pubstatus(
        "docdata/@management-status",
        docdata.and_then(|d| d.attr("management-status")),
    )?;
    item.ednote = doc_data("ed-msg", "info");
    item.copyright = holder.or_else(|| doc_data("doc.copyright", "year").map(|y| format!("© {y}")));
    // NITF 3.x declares the language as `nitf/@baselang`; `xml:lang` and
    // `lang` are what agencies write as well.
    item.language = ["xml:lang", "lang", "baselang"].iter().find_map(|a| {
        nitf.attr_text(a)
            .or_else(|| nitf.child("body").and_then(|b| b.attr_text(a)))
    });
    item.subjects = head
        .map(|h| {
            h.all("tobject")
                .flat_map(|t| t.all("tobject.subject"))
                .map(|s| Subject {
                    code: s.attr_text("tobject.subject.refnum"),
                    name: s
                        .attr_text("tobject.subject.detail")
                        .or_else(|| s.attr_text("tobject.subject.matter"))
                        .or_else(|| s.attr_text("tobject.subject.type")),
                })
                .filter(|s| s.code.is_some() || s.name.is_some())
                .collect()
        })
        .unwrap_or_default();

    let article = article(nitf, &doc.source);
    item.headline = article
        .headline
        .or_else(|| head.and_then(|h| h.text_at("title")))
        .unwrap_or_default();
    item.subheadlines = article.subheadlines;
    item.byline = article.byline;
    item.dateline = article.dateline;
    item.description = article.abstract_;
    item.body = article.body;
    Ok(item)
}

/// `3.6` from `-//IPTC//DTD NITF 3.6//EN`, or the attribute as is.
fn nitf_version(version: &str) -> Option<String> {
    let version = version.trim();
    let number = version
        .split("NITF ")
        .nth(1)
        .map(|rest| rest.split('/').next().unwrap_or(rest).trim())
        .unwrap_or(version);
    (!number.is_empty()).then(|| number.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Document;
    use wirestream_model::PubStatus;

    pub(crate) const NITF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nitf SYSTEM "nitf-3-6.dtd">
<nitf version="-//IPTC//DTD NITF 3.6//EN" xml:lang="en-US">
  <head>
    <title>Storm hits coast</title>
    <tobject tobject.type="news">
      <tobject.subject tobject.subject.refnum="17000000" tobject.subject.matter="weather"/>
    </tobject>
    <docdata>
      <doc-id regsrc="ACME" id-string="acme-2024-0042"/>
      <du-key version="3" key="storm"/>
      <urgency ed-urg="2"/>
      <date.issue norm="20240105T101500Z"/>
      <date.release norm="20240105T120000Z"/>
      <doc.copyright year="2024" holder="Acme News"/>
      <ed-msg info="Update with casualty figures"/>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline><hl1>Storm &amp; floods hit the coast</hl1><hl2>Thousands without power</hl2></hedline>
      <byline>By <person>Jane Doe</person>, Staff Writer</byline>
      <dateline><location>MIAMI</location>, Jan 5</dateline>
      <abstract><p>A storm hit.</p></abstract>
    </body.head>
    <body.content>
      <p>Heavy rain&nbsp;fell &#8212; roads closed.</p>
      <p>More <em>later</em>.</p>
    </body.content>
  </body>
</nitf>"#;

    #[test]
    fn parses_nitf() {
        let doc = Document::parse(NITF.as_bytes(), None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(item.uri, "acme-2024-0042");
        assert_eq!(item.provider, "acme");
        assert_eq!(item.version, Some(3));
        assert_eq!(item.urgency, Some(2));
        assert_eq!(item.format_version.as_deref(), Some("3.6"));
        assert_eq!(item.headline, "Storm & floods hit the coast");
        assert_eq!(item.subheadlines, ["Thousands without power"]);
        assert_eq!(item.byline.as_deref(), Some("By Jane Doe, Staff Writer"));
        assert_eq!(item.dateline.as_deref(), Some("MIAMI, Jan 5"));
        assert_eq!(item.description.as_deref(), Some("A storm hit."));
        assert_eq!(item.versioncreated.as_deref(), Some("20240105T101500Z"));
        assert_eq!(item.embargoed.as_deref(), Some("20240105T120000Z"));
        assert_eq!(item.copyright.as_deref(), Some("Acme News"));
        assert_eq!(item.ednote.as_deref(), Some("Update with casualty figures"));
        assert_eq!(item.language.as_deref(), Some("en-US"));
        assert_eq!(
            item.subjects,
            [Subject {
                code: Some("17000000".into()),
                name: Some("weather".into())
            }]
        );
        let body = item.body.unwrap();
        assert_eq!(body.kind, BodyKind::Html);
        assert_eq!(
            body.value,
            "<p>Heavy rain&nbsp;fell &#8212; roads closed.</p>\n      <p>More <em>later</em>.</p>"
        );
        assert_eq!(item.format, Format::Nitf);
    }

    #[test]
    fn management_status_is_read() {
        // A kill: it used to be taken for a new story.
        let bytes = br#"<nitf><head><docdata management-status="canceled"><doc-id id-string="kill-1"/><du-key version="2"/></docdata></head><body><body.head><hedline><hl1>KILL</hl1></hedline></body.head></body></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(item.pubstatus, PubStatus::Canceled);
        assert_eq!(item.version, Some(2));

        let bytes = br#"<nitf><head><docdata management-status="embargoed"><date.release norm="20240106T000000Z"/></docdata></head><body/></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(item.pubstatus, PubStatus::Withheld);
        assert_eq!(item.embargoed.as_deref(), Some("20240106T000000Z"));

        let doc = Document::parse(NITF.as_bytes(), None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(item.pubstatus, PubStatus::Usable);

        let bytes = br#"<nitf><head><docdata management-status="bogus"/></head><body/></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        let err = parse(&doc, &Context::new("t")).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidField);
    }

    #[test]
    fn baselang_is_the_language() {
        let bytes = br#"<nitf baselang="fr-FR"><head/><body><body.content><p>Texte.</p></body.content></body></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(item.language.as_deref(), Some("fr-FR"));
    }

    #[test]
    fn body_content_in_cdata_is_its_markup() {
        let bytes = br#"<nitf><head/><body><body.head><hedline><hl1><![CDATA[AT&T buys <Time Warner>]]></hl1></hedline></body.head><body.content><![CDATA[<p>AT&amp;T said</p><p>Second.</p>]]></body.content></body></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(item.headline, "AT&T buys <Time Warner>");
        assert_eq!(
            item.body,
            Some(Body {
                kind: BodyKind::Html,
                value: "<p>AT&amp;T said</p><p>Second.</p>".into()
            })
        );
        // Plain text in CDATA is a text body.
        let bytes = br#"<nitf><body><body.content><![CDATA[Just text & more.]]></body.content></body></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(
            item.body,
            Some(Body {
                kind: BodyKind::Text,
                value: "Just text & more.".into()
            })
        );
        // Blank CDATA: no body.
        let bytes = br#"<nitf><body><body.content><![CDATA[ ]]></body.content></body></nitf>"#;
        let doc = Document::parse(bytes, None).unwrap();
        assert_eq!(parse(&doc, &Context::new("t")).unwrap().body, None);
    }

    #[test]
    fn minimal_nitf_gets_a_derived_id() {
        let bytes = b"<nitf><head><title>Only a title</title></head><body/></nitf>";
        let doc = Document::parse(bytes, None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap();
        assert!(item.uri.starts_with("urn:wirestream:nitf:"), "{}", item.uri);
        assert_eq!(item.headline, "Only a title");
        assert_eq!(item.provider, "unknown");
        assert_eq!(item.body, None);
    }
}
