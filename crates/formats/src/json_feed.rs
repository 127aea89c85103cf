//! JSON Feed 1.0 and 1.1 (jsonfeed.org): each entry of `items` is one item.
//!
//! Kept per item: `id` (else `url`, else a hash of the item), `title`,
//! `content_html` (else `content_text`) as the body, `summary`,
//! `date_published`/`date_modified`, `authors` (1.1) or `author` (1.0) as the
//! byline, `tags` as subjects, `language` (1.1, else the feed's). The
//! declared provider is the host of the feed's `home_page_url`.

use serde::Deserialize;
use serde_json::Value;
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
    items: Vec<Value>,
    /// Everything else, read field by field (see [`Fields`]).
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

fn invalid(message: String) -> ParseError {
    ParseError::new(ErrorKind::InvalidJson, message)
}

/// Optional fields read leniently: feeds in the wild send `null` for an
/// absent list, a string where 1.0 wants an author object, a number for a
/// title. A field of the wrong type is left out with a warning on the
/// item, rather than costing the item, or the whole feed its other items.
struct Fields<'a> {
    object: &'a serde_json::Map<String, Value>,
    warnings: Vec<String>,
}

impl<'a> Fields<'a> {
    fn new(object: &'a serde_json::Map<String, Value>) -> Self {
        Fields {
            object,
            warnings: Vec::new(),
        }
    }

    fn wrong(&mut self, field: &str, wanted: &str) {
        self.warnings.push(format!(
            "JSON Feed field `{field}` is not {wanted}: left out"
        ));
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.object.get(field)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => {
                self.wrong(field, "a string");
                None
            }
        }
    }

    /// `authors` (1.1, a list) and `author` (1.0, one object); an author
    /// given as a bare name is taken as its name.
    fn author_names(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        let mut read = |fields: &mut Self, field: &str, value: &Value| match value {
            Value::Object(author) => match author.get("name") {
                Some(Value::String(name)) => names.push(name.clone()),
                None | Some(Value::Null) => {}
                Some(_) => fields.wrong(&format!("{field}.name"), "a string"),
            },
            Value::String(name) => names.push(name.clone()),
            Value::Null => {}
            _ => fields.wrong(field, "an author"),
        };
        match self.object.get("authors") {
            Some(Value::Array(authors)) => {
                for author in authors {
                    read(self, "authors", author);
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => self.wrong("authors", "a list"),
        }
        if let Some(author) = self.object.get("author") {
            read(self, "author", author);
        }
        names
    }

    fn strings(&mut self, field: &str) -> Vec<String> {
        match self.object.get(field) {
            Some(Value::Array(values)) => {
                let strings: Vec<String> = values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                if strings.len() < values.len() {
                    self.warnings.push(format!(
                        "JSON Feed field `{field}` has entries that are not strings: those left out"
                    ));
                }
                strings
            }
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                self.wrong(field, "a list");
                Vec::new()
            }
        }
    }

    /// JSON Feed 1.0 allowed numeric ids; 1.1 says strings.
    fn id(&mut self) -> Option<String> {
        match self.object.get("id")? {
            Value::Number(n) => Some(n.to_string()),
            _ => self.string("id"),
        }
    }
}

fn joined(names: Vec<String>) -> Option<String> {
    let names: Vec<&str> = names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// Whether a JSON document is one JSON Feed item on its own: what an
/// item's original is (the item's object), so that a dead letter can be
/// replayed to ingest. An object with an `id`, a `content_html` or
/// `content_text`, and no `uri` (which every ninjs object has) or
/// `version`. The byte checks come first: every ninjs document passes here.
pub(crate) fn is_json_feed_item(bytes: &[u8]) -> bool {
    let has = |key: &[u8]| bytes.windows(key.len()).any(|w| w == key);
    if !(has(b"\"content_html\"") || has(b"\"content_text\"")) || has(b"\"uri\"") {
        return false;
    }
    serde_json::from_slice::<serde_json::Map<String, Value>>(strip_utf8_bom(bytes).0).is_ok_and(
        |object| {
            object.contains_key("id")
                && !object.contains_key("uri")
                && !object.contains_key("version")
        },
    )
}

/// What a feed gives each of its items.
#[derive(Default)]
struct FeedInfo {
    /// `1` or `1.1`; unknown for an item on its own.
    version: Option<String>,
    site: Option<String>,
    author: Option<String>,
    language: Option<String>,
    warnings: Vec<String>,
}

pub(crate) fn parse(bytes: &[u8], ctx: &Context) -> Result<Vec<RawItem>, ParseError> {
    let (json, bom) = strip_utf8_bom(bytes);
    let not_valid = |e: serde_json::Error| {
        let mut error = crate::ninjs::json_error(&e, bytes, bom);
        error.message = format!("not a valid JSON Feed: {}", error.message);
        error
    };
    if is_json_feed_item(bytes) {
        let value: Value = serde_json::from_slice(json).map_err(not_valid)?;
        return Ok(vec![read_item(value, 0, &FeedInfo::default(), ctx)?]);
    }
    let feed: Feed = serde_json::from_slice(json).map_err(not_valid)?;
    if !is_version(&feed.version) {
        return Err(
            invalid(format!("unknown JSON Feed version `{}`", feed.version)).field("version"),
        );
    }
    let mut top = Fields::new(&feed.rest);
    let site = top
        .string("home_page_url")
        .or_else(|| top.string("feed_url"))
        .as_deref()
        .and_then(uri_authority);
    let info = FeedInfo {
        version: feed.version.rsplit('/').next().map(str::to_owned),
        site,
        author: joined(top.author_names()),
        language: top.string("language"),
        warnings: top.warnings,
    };
    feed.items
        .into_iter()
        .enumerate()
        .map(|(index, value)| read_item(value, index, &info, ctx))
        .collect()
}

/// The item at `index` of a feed (or on its own).
fn read_item(
    value: Value,
    index: usize,
    feed: &FeedInfo,
    ctx: &Context,
) -> Result<RawItem, ParseError> {
    let original = serde_json::to_vec(&value).unwrap_or_default();
    let Value::Object(object) = &value else {
        return Err(invalid(format!("item {}: not a JSON object", index + 1)).field("items"));
    };
    let mut entry = Fields::new(object);
    let mut item = new_item(Format::JsonFeed, &original, ctx);
    item.format_version.clone_from(&feed.version);
    let url = entry.string("url");
    item.uri = entry
        .id()
        .and_then(non_blank)
        .or_else(|| url.clone().and_then(non_blank))
        .unwrap_or_else(|| derived_uri("json-feed", &original));
    item.provider = provider(
        ctx,
        feed.site.as_deref(),
        url.as_deref().unwrap_or(&item.uri),
    );
    item.headline = entry.string("title").unwrap_or_default();
    item.body = match (
        entry.string("content_html").and_then(non_blank),
        entry.string("content_text").and_then(non_blank),
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
    item.description = entry.string("summary").and_then(non_blank);
    let published = entry.string("date_published");
    item.versioncreated = entry.string("date_modified").or_else(|| published.clone());
    item.firstcreated = published;
    item.byline = joined(entry.author_names()).or_else(|| feed.author.clone());
    item.subjects = entry
        .strings("tags")
        .into_iter()
        .map(|name| Subject {
            code: None,
            name: Some(name),
        })
        .collect();
    item.language = entry.string("language").or_else(|| feed.language.clone());
    item.warnings.extend(feed.warnings.iter().cloned());
    item.warnings.extend(entry.warnings);
    Ok(item)
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
    fn a_field_of_the_wrong_type_costs_a_warning_not_the_feed() {
        let feed = br#"{"version": "https://jsonfeed.org/version/1", "author": "Jane Roe",
          "items": [
            {"id": "a", "title": "First", "content_text": "One.", "tags": null},
            {"id": "b", "title": 7, "content_text": "Two.", "tags": ["x", 3],
             "author": {"name": "Sam Poe"}}
          ]}"#;
        let items = parse(feed, &Context::new("t")).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].headline, "First");
        assert_eq!(items[0].byline.as_deref(), Some("Jane Roe"));
        assert!(items[0].warnings.is_empty(), "{:?}", items[0].warnings);
        assert_eq!(items[1].headline, "");
        assert_eq!(items[1].byline.as_deref(), Some("Sam Poe"));
        assert_eq!(items[1].subjects.len(), 1);
        assert_eq!(
            items[1].warnings,
            [
                "JSON Feed field `title` is not a string: left out",
                "JSON Feed field `tags` has entries that are not strings: those left out"
            ]
        );
    }

    #[test]
    fn an_items_original_parses_again_on_its_own() {
        let ctx = Context::new("t");
        let items = crate::parse_document(FEED.as_bytes(), crate::Hint::Auto, &ctx).unwrap();
        for item in &items {
            let bytes = item.original.to_bytes();
            assert!(is_json_feed_item(&bytes));
            let again = crate::parse_document(&bytes, crate::Hint::Auto, &ctx).unwrap();
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].format, Format::JsonFeed);
            assert_eq!(again[0].uri, item.uri);
            assert_eq!(again[0].headline, item.headline);
            assert_eq!(again[0].body, item.body);
        }
        // ninjs is not taken for one.
        assert!(!is_json_feed_item(
            br#"{"uri": "x", "id": "y", "content_text": "z"}"#
        ));
        assert!(!is_json_feed_item(br#"{"id": "y", "body_text": "z"}"#));
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
