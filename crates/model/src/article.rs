use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Format, Original, PubStatus, Subject};

/// Version of the article JSON contract on the articles topic.
pub const ARTICLE_SCHEMA: u32 = 1;

/// What the worker decided about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The first copy of a story.
    New,
    /// A higher version of an item already seen (same provider and id).
    Version,
    /// A copy of a story already seen under another id; see `duplicate_of`.
    Duplicate,
    /// The provider cancelled the item (`pubstatus: canceled`).
    Kill,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::New => "new",
            Verdict::Version => "version",
            Verdict::Duplicate => "duplicate",
            Verdict::Kill => "kill",
        }
    }
}

/// Whether the language was declared by the provider or detected by us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LanguageSource {
    Declared,
    Detected,
}

/// One normalised, deduplicated news item: a row of the `articles` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub schema: u32,
    pub provider: String,
    /// The item id as sent.
    pub uri: String,
    /// The provider's version, 1 when the format has none.
    pub version: u64,
    pub pubstatus: PubStatus,
    pub verdict: Verdict,
    /// The uri of the first article of the story, for duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// How similar the item is to `duplicate_of` (1.0 for an exact copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    pub headline: String,
    /// Paragraphs of plain text separated by a blank line.
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dateline: Option<String>,
    /// ISO 639-1 code (`fr`, `en`) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_confidence: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_source: Option<LanguageSource>,
    pub word_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<Subject>,
    /// Stock tickers and similar entities lifted from headline markers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tickers: Vec<String>,
    /// Feed tags and other trailers removed from the body (`ttn-fr-56`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioncreated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstcreated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargoed: Option<DateTime<Utc>>,
    /// Problems met while normalising that did not stop the item
    /// (an unparseable timestamp, an undetectable language, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Hex hash of the matching form of headline and body: equal for exact copies.
    pub content_hash: String,
    pub format: Format,
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub processed_at: DateTime<Utc>,
    pub original: Original,
}

impl Article {
    pub fn key(&self) -> String {
        crate::item_key(&self.provider, &self.uri)
    }
}
