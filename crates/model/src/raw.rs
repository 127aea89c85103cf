use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Original;

/// Version of the raw-item JSON contract on the raw topic.
pub const RAW_SCHEMA: u32 = 1;

/// The input formats ingest understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Ninjs,
    NewsmlG2,
    Newsml1,
    Nitf,
    Rss,
    Atom,
    /// JSON Feed 1.x (`https://jsonfeed.org/version/1.1`).
    JsonFeed,
    /// ANPA 1312 wire transmissions (SOH/STX/ETX framing).
    #[serde(rename = "anpa-1312")]
    Anpa1312,
    /// IPTC 7901 wire transmissions (SOH/STX/ETX framing).
    #[serde(rename = "iptc-7901")]
    Iptc7901,
    Text,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ninjs => "ninjs",
            Format::NewsmlG2 => "newsml-g2",
            Format::Newsml1 => "newsml1",
            Format::Nitf => "nitf",
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::JsonFeed => "json-feed",
            Format::Anpa1312 => "anpa-1312",
            Format::Iptc7901 => "iptc-7901",
            Format::Text => "text",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IPTC publication status of an item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PubStatus {
    #[default]
    Usable,
    Withheld,
    Canceled,
}

impl PubStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PubStatus::Usable => "usable",
            PubStatus::Withheld => "withheld",
            PubStatus::Canceled => "canceled",
        }
    }

    /// Reads the status from any of the spellings the standards use
    /// (`usable`, `stat:usable`, `canceled`, `cancelled`, …).
    ///
    /// NewsML 1 and NITF also have `embargoed`: the item must not be shown
    /// before its release, which the provider announces with a usable
    /// revision (or a release time, kept in `RawItem::embargoed`). It reads
    /// as [`PubStatus::Withheld`], the status that hides an item
    /// (`visible_articles`), rather than `usable`, which would publish the
    /// text before the embargo lifts.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let value = value
            .rsplit(':')
            .next()
            .unwrap_or(value)
            .to_ascii_lowercase();
        match value.as_str() {
            "usable" => Some(PubStatus::Usable),
            "withheld" | "embargoed" => Some(PubStatus::Withheld),
            "canceled" | "cancelled" => Some(PubStatus::Canceled),
            _ => None,
        }
    }
}

/// How a body is marked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyKind {
    /// Plain text, possibly hard-wrapped and carrying HTML entities.
    Text,
    /// HTML or XHTML (including NITF `body.content` re-serialised as XHTML).
    Html,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub kind: BodyKind,
    pub value: String,
}

/// A subject or a place: a code from a vocabulary and/or a human name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One news item as a provider sent it, in a format-independent shape.
///
/// Text fields are as sent: entities, control characters and agency furniture
/// are the worker's job. Timestamps are kept as the strings the provider sent,
/// because parsing them (and recording a warning when one is garbled) is part of
/// normalisation, and an unparseable date must never cost us the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawItem {
    /// Contract version, [`RAW_SCHEMA`].
    pub schema: u32,
    /// Who sent the item, as a short lowercase name (`reuters`, `dpa`, …).
    pub provider: String,
    /// The item id as sent: ninjs `uri`, NewsML-G2 `guid`, RSS `guid`, …
    /// Items that carry none get one derived from their content.
    pub uri: String,
    /// The provider's version number; `None` when the format has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub format: Format,
    /// The version of the format standard when the document says it (`2.1`, `3.0`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    #[serde(default)]
    pub pubstatus: PubStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioncreated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstcreated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargoed: Option<String>,
    /// The main headline.
    #[serde(default)]
    pub headline: String,
    /// Sub-headlines and other headline roles, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subheadlines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// A summary or description, when the item has one apart from the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dateline: Option<String>,
    /// Declared language tag, as sent (`en-US`, `nb-NO`, `fr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<Subject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright: Option<String>,
    /// Editorial note, slugline and similar free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ednote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slugline: Option<String>,
    /// Problems the parser met that did not stop the item (a declared
    /// charset the bytes contradict, text that looks double-encoded, …);
    /// the worker carries them into the article's `warnings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Where ingest got the item (`http:<token name>`, `spool:<dir>`, `feed:<url>`, `cli`).
    #[serde(default)]
    pub source: String,
    /// When ingest received it.
    pub received_at: DateTime<Utc>,
    /// The document bytes this item was parsed from. For a container that
    /// holds several items (a NewsML-G2 `newsMessage`, a feed), this is the
    /// item's own element where it can be cut out, else the whole document.
    pub original: Original,
}

impl RawItem {
    /// A minimal item, for parsers to fill in.
    pub fn new(format: Format, original: Original, received_at: DateTime<Utc>) -> Self {
        RawItem {
            schema: RAW_SCHEMA,
            provider: String::new(),
            uri: String::new(),
            version: None,
            format,
            format_version: None,
            pubstatus: PubStatus::Usable,
            urgency: None,
            versioncreated: None,
            firstcreated: None,
            embargoed: None,
            headline: String::new(),
            subheadlines: Vec::new(),
            body: None,
            description: None,
            byline: None,
            dateline: None,
            language: None,
            subjects: Vec::new(),
            places: Vec::new(),
            copyright: None,
            ednote: None,
            slugline: None,
            warnings: Vec::new(),
            source: String::new(),
            received_at,
            original,
        }
    }

    /// The Kafka key: provider plus item id.
    pub fn key(&self) -> String {
        crate::item_key(&self.provider, &self.uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_spellings() {
        assert_eq!(PubStatus::parse("stat:usable"), Some(PubStatus::Usable));
        assert_eq!(PubStatus::parse(" Withheld "), Some(PubStatus::Withheld));
        assert_eq!(PubStatus::parse("cancelled"), Some(PubStatus::Canceled));
        assert_eq!(PubStatus::parse("unknown"), None);
    }

    #[test]
    fn embargoed_is_held_back() {
        // NewsML 1 `Status/@FormalName="Embargoed"`, NITF
        // `management-status="embargoed"`: hidden until released.
        assert_eq!(PubStatus::parse("Embargoed"), Some(PubStatus::Withheld));
        assert_eq!(PubStatus::parse("embargoed"), Some(PubStatus::Withheld));
    }
}
