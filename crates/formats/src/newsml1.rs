//! NewsML 1.x: a `NewsML` envelope of `NewsItem`s, each a tree of
//! `NewsComponent`s whose `ContentItem`s carry the text (often NITF).

use wirestream_model::{Body, BodyKind, Format, PubStatus, RawItem, Subject};

use crate::common::{self, derived_uri, new_item, provider};
use crate::xml::{Document, Element};
use crate::{nitf, Context, ErrorKind, ParseError};

pub(crate) fn parse(doc: &Document, ctx: &Context) -> Result<Vec<RawItem>, ParseError> {
    let items: Vec<&Element> = doc.root.all("NewsItem").collect();
    if items.is_empty() {
        return Err(ParseError::new(
            ErrorKind::MissingField,
            "the NewsML document carries no NewsItem",
        )
        .field("NewsItem"));
    }
    let format_version = doc.root.attr_text("Version");
    // Once, not once per item (that made the items quadratic).
    let several = doc.root.all("NewsItem").nth(1).is_some();
    items
        .into_iter()
        .map(|news_item| {
            let original = if several {
                doc.original_of(news_item)
            } else {
                doc.bytes()
            };
            let mut item = item(doc, news_item, original, ctx)?;
            item.format_version.clone_from(&format_version);
            Ok(item)
        })
        .collect()
}

/// The `FormalName` attribute of the element at `path`.
fn formal_name(element: Option<&Element>, path: &str) -> Option<String> {
    element
        .and_then(|e| e.at(path))
        .and_then(|e| e.attr_text("FormalName"))
}

/// One `NewsItem`.
///
/// The id is the item's URN without its revision: NewsML 1 `PublicIdentifier`s
/// end with `:<RevisionId><Update>`, so keeping them whole would make every
/// revision a new item instead of a new version of the same one. The id is
/// rebuilt as `urn:newsml:<ProviderId>:<DateId>:<NewsItemId>`, the
/// `PublicIdentifier` (minus its revision part) when those are missing, else
/// derived from the bytes. `RevisionId` is the version.
fn item(
    doc: &Document,
    news_item: &Element,
    original: &[u8],
    ctx: &Context,
) -> Result<RawItem, ParseError> {
    let identifier = news_item.at("Identification/NewsIdentifier");
    let id_text = |name: &str| identifier.and_then(|i| i.text_at(name));
    let management = news_item.child("NewsManagement");

    let mut item = new_item(Format::Newsml1, original, ctx);
    let revision = id_text("RevisionId");
    item.version = common::version("NewsIdentifier/RevisionId", revision.as_deref())?;
    let provider_id = id_text("ProviderId");
    item.uri = match (&provider_id, id_text("DateId"), id_text("NewsItemId")) {
        (Some(p), Some(d), Some(n)) => format!("urn:newsml:{p}:{d}:{n}"),
        _ => match id_text("PublicIdentifier") {
            Some(public) => without_revision(&public, revision.as_deref()),
            None => derived_uri("newsml1", original),
        },
    };
    item.firstcreated = management.and_then(|m| m.text_at("FirstCreated"));
    item.versioncreated = management.and_then(|m| m.text_at("ThisRevisionCreated"));
    item.pubstatus = common::pubstatus(
        "NewsManagement/Status/@FormalName",
        formal_name(management, "Status").as_deref(),
    )?;
    item.urgency = common::urgency(
        "NewsManagement/Urgency/@FormalName",
        formal_name(management, "Urgency").as_deref(),
    )?;
    item.embargoed = management
        .and_then(|m| m.child("StatusWillChange"))
        .and_then(release_time);

    // The top component holds the lines and metadata; nested components
    // (photos, sidebars) are searched for the text only.
    let component = news_item.child("NewsComponent");
    // The first NewsLines that has a headline: agencies nest the lines in
    // a sub-component, or leave an empty NewsLines at the top.
    let lines = component.and_then(|c| {
        let all = c.find_all("NewsLines");
        all.iter()
            .find(|l| l.all("HeadLine").any(|h| h.text().is_some()))
            .or(all.first())
            .copied()
    });
    let line = |name: &str| {
        lines
            .and_then(|l| l.child(name))
            .and_then(Element::spaced_text)
    };
    let descriptive = component.and_then(|c| c.find("DescriptiveMetadata"));
    let copyright = line("CopyrightLine");
    let declared = component
        .and_then(|c| c.find("AdministrativeMetadata"))
        .and_then(|a| formal_name(Some(a), "Provider/Party"))
        .or(provider_id);
    item.provider = provider(ctx, declared.as_deref(), &item.uri);
    item.copyright = copyright;
    item.byline = line("ByLine");
    item.dateline = line("DateLine");
    item.slugline = line("SlugLine");
    // The declared language, else the `xml:lang` NewsML 1 allows on the
    // component, the item or the envelope (the nearest wins).
    item.language = formal_name(descriptive, "Language").or_else(|| {
        [component, Some(news_item), Some(&doc.root)]
            .into_iter()
            .flatten()
            .find_map(|e| e.attr_text("xml:lang"))
    });
    item.subjects = descriptive
        .map(|d| {
            d.all("SubjectCode")
                .flat_map(Element::elements)
                .filter_map(|s| s.attr_text("FormalName"))
                .map(|code| Subject {
                    code: Some(code),
                    name: None,
                })
                .collect()
        })
        .unwrap_or_default();
    item.places = descriptive
        .map(|d| {
            d.all("Location")
                .flat_map(|l| l.all("Property"))
                .filter_map(|p| p.attr_text("Value"))
                .map(|name| Subject {
                    code: None,
                    name: Some(name),
                })
                .collect()
        })
        .unwrap_or_default();

    let mut headlines = lines
        .map(|l| {
            l.all("HeadLine")
                .filter_map(Element::spaced_text)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(sub) = line("SubHeadLine") {
        headlines.push(sub);
    }
    let mut headlines = headlines.into_iter();
    let (body, article) = component.map(|c| content(doc, c)).unwrap_or_default();
    let article = article.unwrap_or_default();
    item.body = body;
    item.headline = headlines.next().or(article.headline).unwrap_or_default();
    item.subheadlines = headlines.chain(article.subheadlines).collect();
    item.byline = item.byline.or(article.byline);
    item.dateline = item.dateline.or(article.dateline);
    item.description = article.abstract_;
    Ok(item)
}

/// The embargo of a `StatusWillChange`: its `DateAndTime` when the change
/// releases the item (`FutureStatus` usable, or not given). A change to
/// withheld or canceled at a time is an expiry, not an embargo.
fn release_time(change: &Element) -> Option<String> {
    let future = formal_name(Some(change), "FutureStatus");
    let releases = future
        .as_deref()
        .is_none_or(|f| PubStatus::parse(f) == Some(PubStatus::Usable));
    releases.then(|| change.text_at("DateAndTime")).flatten()
}

/// `urn:newsml:afp.com:20240101:123:2N` without `:2N` when 2 is the revision.
fn without_revision(public: &str, revision: Option<&str>) -> String {
    let Some((head, last)) = public.rsplit_once(':') else {
        return public.to_owned();
    };
    let digits = last.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    match revision {
        Some(rev) if digits == rev.trim() => head.to_owned(),
        _ => public.to_owned(),
    }
}

/// Media types whose content items are not the story's text.
const NOT_TEXT: &[&str] = &["photo", "image", "graphic", "video", "audio", "picture"];

/// The text of a component: the `ContentItem`s at any depth of the
/// `NewsComponent` tree (nesting has no limit but the tree's), text ones
/// first, others skipped when their `MediaType` says photo, graphic, video
/// or audio; the first whose `DataContent` yields text wins. A
/// `DataContent` holds NITF, XHTML, other markup (paragraphs mixed with
/// media references, read as HTML) or plain text (as HTML when it is
/// escaped markup).
fn content(doc: &Document, component: &Element) -> (Option<Body>, Option<nitf::Article>) {
    let mut items = component.find_all("ContentItem");
    items.retain(|item| {
        let media = formal_name(Some(item), "MediaType").unwrap_or_default();
        !NOT_TEXT.contains(&media.to_ascii_lowercase().as_str())
    });
    // Items that say they are text come first, in document order.
    items.sort_by_key(|item| {
        !formal_name(Some(item), "MediaType").is_some_and(|m| m.eq_ignore_ascii_case("text"))
    });
    for item in items {
        let Some(data) = item.child("DataContent") else {
            continue;
        };
        let found = data_content(doc, data);
        if found.0.is_some() {
            return found;
        }
    }
    (None, None)
}

fn data_content(doc: &Document, data: &Element) -> (Option<Body>, Option<nitf::Article>) {
    let mut elements = data.elements();
    match (elements.next(), elements.next()) {
        (Some(first), None) if first.local_name() == "nitf" => {
            let mut article = nitf::article(first, &doc.source);
            (article.body.take(), Some(article))
        }
        (Some(first), None) if first.local_name() == "html" => {
            let body = first.child("body").unwrap_or(first);
            let title = first.at("head/title").and_then(Element::spaced_text);
            let article = nitf::Article {
                headline: title,
                ..nitf::Article::default()
            };
            (html(doc.inner_xml(body)), Some(article))
        }
        (Some(_), _) => (html(doc.inner_xml(data)), None),
        (None, _) => (data.text().map(common::text_body), None),
    }
}

fn html(markup: &str) -> Option<Body> {
    (!markup.is_empty()).then(|| Body {
        kind: BodyKind::Html,
        value: markup.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWSML: &str = r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<NewsML Version="1.2">
  <NewsEnvelope><DateAndTime>20240105T101500Z</DateAndTime></NewsEnvelope>
  <NewsItem>
    <Identification>
      <NewsIdentifier>
        <ProviderId>afp.com</ProviderId>
        <DateId>20240105</DateId>
        <NewsItemId>TX-PAR-ABC12</NewsItemId>
        <RevisionId PreviousRevision="1" Update="N">2</RevisionId>
        <PublicIdentifier>urn:newsml:afp.com:20240105:TX-PAR-ABC12:2N</PublicIdentifier>
      </NewsIdentifier>
    </Identification>
    <NewsManagement>
      <NewsItemType FormalName="News"/>
      <FirstCreated>20240105T100000Z</FirstCreated>
      <ThisRevisionCreated>20240105T101500Z</ThisRevisionCreated>
      <Status FormalName="Usable"/>
      <Urgency FormalName="2"/>
    </NewsManagement>
    <NewsComponent>
      <NewsLines>
        <HeadLine>Tempête sur la Bretagne</HeadLine>
        <SubHeadLine>Des milliers de foyers privés d'électricité</SubHeadLine>
        <ByLine>Par Marie Martin</ByLine>
        <DateLine>RENNES, 5 janv 2024 (AFP)</DateLine>
        <CopyrightLine>Copyright AFP 2024</CopyrightLine>
        <SlugLine>France-météo</SlugLine>
      </NewsLines>
      <AdministrativeMetadata><Provider><Party FormalName="AFP"/></Provider></AdministrativeMetadata>
      <DescriptiveMetadata>
        <Language FormalName="fr"/>
        <SubjectCode><Subject FormalName="17000000"/><SubjectMatter FormalName="17005000"/></SubjectCode>
        <Location HowPresent="Origin"><Property FormalName="Country" Value="France"/><Property FormalName="City" Value="Rennes"/></Location>
      </DescriptiveMetadata>
      <ContentItem>
        <MediaType FormalName="Text"/>
        <Format FormalName="NITF"/>
        <DataContent>
          <nitf><body><body.head><abstract>Résumé.</abstract></body.head>
          <body.content><p>La tempête a frappé la côte.</p></body.content></body></nitf>
        </DataContent>
      </ContentItem>
    </NewsComponent>
  </NewsItem>
</NewsML>"#;

    #[test]
    fn parses_newsml1_in_latin1() {
        // Encoded as declared, to exercise the decoding too.
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(NEWSML);
        let doc = Document::parse(&bytes, None).unwrap();
        let items = parse(&doc, &Context::new("t")).unwrap();
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.uri, "urn:newsml:afp.com:20240105:TX-PAR-ABC12");
        assert_eq!(item.version, Some(2));
        assert_eq!(item.format, Format::Newsml1);
        assert_eq!(item.format_version.as_deref(), Some("1.2"));
        assert_eq!(item.provider, "afp");
        assert_eq!(item.firstcreated.as_deref(), Some("20240105T100000Z"));
        assert_eq!(item.versioncreated.as_deref(), Some("20240105T101500Z"));
        assert_eq!(item.pubstatus, PubStatus::Usable);
        assert_eq!(item.urgency, Some(2));
        assert_eq!(item.headline, "Tempête sur la Bretagne");
        assert_eq!(
            item.subheadlines,
            ["Des milliers de foyers privés d'électricité"]
        );
        assert_eq!(item.byline.as_deref(), Some("Par Marie Martin"));
        assert_eq!(item.dateline.as_deref(), Some("RENNES, 5 janv 2024 (AFP)"));
        assert_eq!(item.copyright.as_deref(), Some("Copyright AFP 2024"));
        assert_eq!(item.slugline.as_deref(), Some("France-météo"));
        assert_eq!(item.language.as_deref(), Some("fr"));
        assert_eq!(item.subjects.len(), 2);
        assert_eq!(item.places[1].name.as_deref(), Some("Rennes"));
        assert_eq!(item.description.as_deref(), Some("Résumé."));
        assert_eq!(
            item.body,
            Some(Body {
                kind: BodyKind::Html,
                value: "<p>La tempête a frappé la côte.</p>".into()
            })
        );
        assert!(matches!(
            item.original,
            wirestream_model::Original::Base64(_)
        ));
    }

    #[test]
    fn public_identifier_without_revision() {
        assert_eq!(
            without_revision("urn:newsml:x.com:1:A:3N", Some("3")),
            "urn:newsml:x.com:1:A"
        );
        assert_eq!(
            without_revision("urn:newsml:x.com:1:A:3", Some("3")),
            "urn:newsml:x.com:1:A"
        );
        assert_eq!(
            without_revision("urn:newsml:x.com:1:A", Some("3")),
            "urn:newsml:x.com:1:A"
        );
        let doc = Document::parse(b"<NewsML><NewsItem><Identification><NewsIdentifier><RevisionId>4</RevisionId><PublicIdentifier>urn:newsml:x.com:1:A:4</PublicIdentifier></NewsIdentifier></Identification><NewsComponent><ContentItem><DataContent>Plain text</DataContent></ContentItem></NewsComponent></NewsItem></NewsML>", None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap().remove(0);
        assert_eq!(item.uri, "urn:newsml:x.com:1:A");
        assert_eq!(item.provider, "x.com");
        assert_eq!(
            item.body,
            Some(Body {
                kind: BodyKind::Text,
                value: "Plain text".into()
            })
        );
    }

    /// A one-item NewsML 1 document with `management` as its
    /// `NewsManagement` and `component_attrs` on its `NewsComponent`.
    fn one_item(management: &str, component_attrs: &str) -> RawItem {
        let xml = format!(
            "<NewsML Version=\"1.2\"><NewsItem><Identification><NewsIdentifier>\
             <ProviderId>x.com</ProviderId><DateId>1</DateId><NewsItemId>A</NewsItemId>\
             <RevisionId>1</RevisionId></NewsIdentifier></Identification>\
             <NewsManagement>{management}</NewsManagement>\
             <NewsComponent{component_attrs}><NewsLines><HeadLine>H</HeadLine></NewsLines>\
             <ContentItem><DataContent>Body</DataContent></ContentItem></NewsComponent>\
             </NewsItem></NewsML>"
        );
        let doc = Document::parse(xml.as_bytes(), None).unwrap();
        parse(&doc, &Context::new("t")).unwrap().remove(0)
    }

    #[test]
    fn embargoed_items_are_held_until_release() {
        // One of NewsML 1's four standard statuses: the document used to be
        // refused as "unknown status".
        let item = one_item(
            "<Status FormalName=\"Embargoed\"/><StatusWillChange>\
             <FutureStatus FormalName=\"Usable\"/><DateAndTime>20240106T000000Z</DateAndTime>\
             </StatusWillChange>",
            "",
        );
        assert_eq!(item.pubstatus, PubStatus::Withheld);
        assert_eq!(item.embargoed.as_deref(), Some("20240106T000000Z"));
        assert_eq!(item.headline, "H");

        // Without a future status the change is a release too.
        let item = one_item(
            "<Status FormalName=\"Embargoed\"/><StatusWillChange>\
             <DateAndTime>20240106T000000Z</DateAndTime></StatusWillChange>",
            "",
        );
        assert_eq!(item.embargoed.as_deref(), Some("20240106T000000Z"));

        // A usable item that will be withdrawn later is not embargoed.
        let item = one_item(
            "<Status FormalName=\"Usable\"/><StatusWillChange>\
             <FutureStatus FormalName=\"Canceled\"/><DateAndTime>20240107T000000Z</DateAndTime>\
             </StatusWillChange>",
            "",
        );
        assert_eq!(item.pubstatus, PubStatus::Usable);
        assert_eq!(item.embargoed, None);

        let item = one_item("<Status FormalName=\"Withheld\"/>", "");
        assert_eq!(item.pubstatus, PubStatus::Withheld);
        let item = one_item("<Status FormalName=\"Canceled\"/>", "");
        assert_eq!(item.pubstatus, PubStatus::Canceled);
    }

    #[test]
    fn unknown_status_is_an_invalid_field() {
        // As in every format: read as usable, it could publish a held item.
        let xml = b"<NewsML><NewsItem><NewsManagement><Status FormalName=\"Pending\"/></NewsManagement></NewsItem></NewsML>";
        let doc = Document::parse(xml, None).unwrap();
        let err = parse(&doc, &Context::new("t")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidField);
    }

    #[test]
    fn language_from_xml_lang() {
        assert_eq!(
            one_item("", " xml:lang=\"de\"").language.as_deref(),
            Some("de")
        );
        // The declared Language wins over xml:lang.
        let xml = NEWSML.replace("<NewsComponent>", "<NewsComponent xml:lang=\"de\">");
        let doc = Document::parse(xml.as_bytes(), None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap().remove(0);
        assert_eq!(item.language.as_deref(), Some("fr"));
        // On the envelope.
        let xml = NEWSML.replace("<Language FormalName=\"fr\"/>", "").replace(
            "<NewsML Version=\"1.2\">",
            "<NewsML Version=\"1.2\" xml:lang=\"fr-CA\">",
        );
        let doc = Document::parse(xml.as_bytes(), None).unwrap();
        let item = parse(&doc, &Context::new("t")).unwrap().remove(0);
        assert_eq!(item.language.as_deref(), Some("fr-CA"));
        assert_eq!(one_item("", "").language, None);
    }

    #[test]
    fn newsml_without_items() {
        let doc = Document::parse(b"<NewsML><NewsEnvelope/></NewsML>", None).unwrap();
        let err = parse(&doc, &Context::new("t")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::MissingField);
    }
}
