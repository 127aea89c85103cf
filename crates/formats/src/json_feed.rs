//! JSON Feed 1.0 and 1.1 (jsonfeed.org): each entry of `items` is one item.
//!
//! Kept per item: `id` (else `url`, else a hash of the item), `title`,
//! `content_html` (else `content_text`) as the body, `summary`,
//! `date_published`/`date_modified`, `authors` (1.1) or `author` (1.0) as the
//! byline, `tags` as subjects, `language` (1.1, else the feed's). The
//! declared provider is the host of the feed's `home_page_url`.

use serde::Deserialize;
use wirestream_model::{Body, BodyKind, Format, RawItem, Subject};

use crate::common::{derived_uri, new_item, non_blank, provider, uri_authority};
use crate::sniff::strip_utf8_bom;
use crate::{Context, ErrorKind, ParseError};

const VERSION_PREFIX: &str = "https://jsonfeed.org/version/";

/// Whether a JSON document is a JSON Feed: cheap for ninjs (the URL must
/// appear), then its top-level `version` is checked.
pub(crate) fn is_json_feed(bytes: &[u8]) -> bool {
    let marker = b"jsonfeed.org/version/";
    if !bytes.windows(marker.len()).any(|w| w == marker) {
        return false;
    }
    #[derive(Deserialize)]
    struct Probe {
        version: Option<String>,
    }
    serde_json::from_slice::<Probe>(strip_utf8_bom(bytes).0)
        .ok()
        .and_then(|p| p.version)
        .is_some_and(|v| is_version(&v))
}

fn is_version(version: &str) -> bool {
    version.starts_with(VERSION_PREFIX) || version.starts_with("http://jsonfeed.org/version/")
}

#[derive(Deserialize)]
struct Feed {
    version: String,
    #[serde(default)]
    home_page_url: Option<String>,
    #[serde(default)]
    feed_url: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    authors: Vec<Author>,
    #[serde(default)]
    author: Option<Author>,
    items: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default, Clone)]
struct Author {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default, deserialize_with = "id_string")]
    id: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    content_html: Option<String>,
    #[serde(default)]
    content_text: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    date_published: Option<String>,
    #[serde(default)]
    date_modified: Option<String>,
    #[serde(default)]
    authors: Vec<Author>,
    #[serde(default)]
    author: Option<Author>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    language: Option<String>,
}

/// JSON Feed 1.0 allowed numeric ids; 1.1 says strings.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn invalid(message: String) -> ParseError {
    ParseError::new(ErrorKind::InvalidJson, message)
}

fn names(authors: &[Author], author: Option<&Author>) -> Option<String> {
    let names: Vec<&str> = authors
        .iter()
        .chain(author)
        .filter_map(|a| a.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

pub(crate) fn parse(bytes: &[u8], ctx: &Context) -> Result<Vec<RawItem>, ParseError> {
    let (json, bom) = strip_utf8_bom(bytes);
    let feed: Feed = serde_json::from_slice(json).map_err(|e| {
        let mut error = crate::ninjs::json_error(&e, bytes, bom);
        error.message = format!("not a valid JSON Feed: {}", error.message);
        error
    })?;
    if !is_version(&feed.version) {
        return Err(
            invalid(format!("unknown JSON Feed version `{}`", feed.version)).field("version"),
        );
    }
    let site = feed
        .home_page_url
        .as_deref()
        .or(feed.feed_url.as_deref())
        .and_then(uri_authority);
    let feed_author = names(&feed.authors, feed.author.as_ref());
    feed.items
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let original = serde_json::to_vec(&value).unwrap_or_default();
            let entry: Item = serde_json::from_value(value)
                .map_err(|e| invalid(format!("item {}: {e}", index + 1)).field("items"))?;
            let mut item = new_item(Format::JsonFeed, &original, ctx);
            item.format_version = feed.version.rsplit('/').next().map(str::to_owned);
            item.uri = entry
                .id
                .clone()
                .and_then(non_blank)
                .or_else(|| entry.url.clone().and_then(non_blank))
                .unwrap_or_else(|| derived_uri("json-feed", &original));
            item.provider = provider(
                ctx,
                site.as_deref(),
                entry.url.as_deref().unwrap_or(&item.uri),
            );
            item.headline = entry.title.unwrap_or_default();
            item.body = match (
                entry.content_html.and_then(non_blank),
                entry.content_text.and_then(non_blank),
            ) {
                (Some(html), _) => Some(Body {
                    kind: BodyKind::Html,
                    value: html,
                }),
                (None, Some(text)) => Some(Body {
                    kind: BodyKind::Text,
                    value: text,
                }),
                (None, None) => None,
            };
            item.description = entry.summary.and_then(non_blank);
            item.versioncreated = entry
                .date_modified
                .clone()
                .or_else(|| entry.date_published.clone());
            item.firstcreated = entry.date_published;
            item.byline =
                names(&entry.authors, entry.author.as_ref()).or_else(|| feed_author.clone());
            item.subjects = entry
                .tags
                .into_iter()
                .map(|name| Subject {
                    code: None,
                    name: Some(name),
                })
                .collect();
            item.language = entry.language.or_else(|| feed.language.clone());
            Ok(item)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = r#"{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Harbour Gazette",
  "home_page_url": "https://www.harbour-gazette.example/",
  "language": "en",
  "authors": [{"name": "Gazette desk"}],
  "items": [
    {"id": "hg-1", "url": "https://www.harbour-gazette.example/1", "title": "Ferry strike ends",
     "content_html": "<p>The ferries run again.</p><p>Talks resume in May.</p>",
     "summary": "Strike over.", "date_published": "2024-03-01T08:00:00Z",
     "authors": [{"name": "Mara Quill"}], "tags": ["transport"]},
    {"id": 2, "content_text": "Tide tables are out.", "date_modified": "2024-03-02T08:00:00Z"}
  ]
}"#;

    #[test]
    fn parses_a_json_feed() {
        assert!(is_json_feed(FEED.as_bytes()));
        assert!(!is_json_feed(br#"{"uri": "x", "version": "1"}"#));
        let items = parse(FEED.as_bytes(), &Context::new("t")).unwrap();
        assert_eq!(items.len(), 2);
        let first = &items[0];
        assert_eq!(first.uri, "hg-1");
        assert_eq!(first.provider, "harbour-gazette.example");
        assert_eq!(first.headline, "Ferry strike ends");
        assert_eq!(first.body.as_ref().unwrap().kind, BodyKind::Html);
        assert_eq!(first.byline.as_deref(), Some("Mara Quill"));
        assert_eq!(first.description.as_deref(), Some("Strike over."));
        assert_eq!(first.language.as_deref(), Some("en"));
        assert_eq!(first.format_version.as_deref(), Some("1.1"));
        let second = &items[1];
        assert_eq!(second.uri, "2");
        assert_eq!(second.byline.as_deref(), Some("Gazette desk"));
        assert_eq!(second.body.as_ref().unwrap().value, "Tide tables are out.");
    }

    #[test]
    fn refuses_broken_feeds() {
        let err = parse(
            br#"{"version": "https://jsonfeed.org/version/1.1", "items": 3}"#,
            &Context::new("t"),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidJson);
        assert!(err.location.is_some(), "{err}");
    }
}
