//! The first pass over a ninjs object: keys matched case-insensitively to the
//! fields we map, values of other keys skipped without being built (an AP
//! picture's renditions, TT's associations).

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::Roled;

/// Which ninjs spellings a document used, to guess its version.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seen {
    pub v1: bool,
    pub v2: bool,
    pub v3: bool,
}

/// The mapped fields of a ninjs object, as sent. A key given twice keeps its
/// last value, as JSON parsers usually do.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub uri: Option<Value>,
    pub version: Option<Value>,
    pub versioncreated: Option<Value>,
    pub firstcreated: Option<Value>,
    pub embargoed: Option<Value>,
    pub pubstatus: Option<Value>,
    pub urgency: Option<Value>,
    /// 1.x `headline`.
    pub headline: Option<Value>,
    pub headlines: Option<Value>,
    /// 1.x `headline_*`, in document order.
    pub extra_headlines: Vec<String>,
    pub title: Option<Value>,
    pub bodies: Option<Value>,
    /// 1.x `body_text`, `body_html`, … in document order.
    pub bodies_v1: Vec<Roled>,
    pub descriptions: Option<Value>,
    /// 1.x `description_text`, … in document order.
    pub descriptions_v1: Vec<Roled>,
    /// `by` (2.x, 3.x) or `byline` (1.x).
    pub by: Option<Value>,
    pub people: Option<Value>,
    pub located: Option<Value>,
    pub language: Option<Value>,
    /// `subjects`, or 1.x `subject`.
    pub subjects: Option<Value>,
    /// `places`, or 1.x `place`.
    pub places: Option<Value>,
    pub copyrightholder: Option<Value>,
    pub copyrightnotice: Option<Value>,
    pub ednote: Option<Value>,
    pub slugline: Option<Value>,
    /// `standard`, or 1.x `$standard`.
    pub standard: Option<Value>,
    pub seen: Seen,
}

enum Key {
    Uri,
    Version,
    VersionCreated,
    FirstCreated,
    Embargoed,
    PubStatus,
    Urgency,
    Headline,
    Headlines,
    ExtraHeadline,
    Title,
    Bodies,
    BodyV1(String),
    Descriptions,
    DescriptionV1(String),
    By,
    Byline,
    People,
    Located,
    Language,
    Subjects,
    Subject,
    Places,
    Place,
    CopyrightHolder,
    CopyrightNotice,
    EdNote,
    Slugline,
    Standard,
    Other,
}

/// A key and whether it was spelt in camelCase (3.x).
struct SpeltKey(Key, bool);

impl<'de> de::Deserialize<'de> for SpeltKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = SpeltKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a ninjs property name")
    }

    fn visit_str<E: de::Error>(self, raw: &str) -> Result<SpeltKey, E> {
        let camel = raw.bytes().any(|b| b.is_ascii_uppercase());
        // Lower-cased on the stack: keys are short, and this runs for every
        // key of every item of a corpus.
        let mut buf = [0u8; 32];
        let lower_owned;
        let lower: &str = if raw.len() <= buf.len() {
            let buf = &mut buf[..raw.len()];
            buf.copy_from_slice(raw.as_bytes());
            buf.make_ascii_lowercase();
            // Lower-casing ASCII letters keeps UTF-8 valid.
            std::str::from_utf8(buf).unwrap_or_default()
        } else {
            lower_owned = raw.to_ascii_lowercase();
            &lower_owned
        };
        let key = match lower {
            "uri" => Key::Uri,
            "version" => Key::Version,
            "versioncreated" => Key::VersionCreated,
            "firstcreated" => Key::FirstCreated,
            "embargoed" | "embargoeduntil" => Key::Embargoed,
            "pubstatus" => Key::PubStatus,
            "urgency" => Key::Urgency,
            "headline" => Key::Headline,
            "headlines" => Key::Headlines,
            "title" => Key::Title,
            "bodies" => Key::Bodies,
            "descriptions" => Key::Descriptions,
            "by" => Key::By,
            "byline" => Key::Byline,
            "people" => Key::People,
            "located" => Key::Located,
            "language" => Key::Language,
            "subjects" => Key::Subjects,
            "subject" => Key::Subject,
            "places" => Key::Places,
            "place" => Key::Place,
            "copyrightholder" => Key::CopyrightHolder,
            "copyrightnotice" => Key::CopyrightNotice,
            "ednote" => Key::EdNote,
            "slugline" => Key::Slugline,
            "standard" | "$standard" => Key::Standard,
            _ if lower.starts_with("headline_") => Key::ExtraHeadline,
            _ => match (
                lower.strip_prefix("body_"),
                lower.strip_prefix("description_"),
            ) {
                (Some(suffix), _) => Key::BodyV1(suffix.to_owned()),
                (_, Some(suffix)) => Key::DescriptionV1(suffix.to_owned()),
                _ => Key::Other,
            },
        };
        Ok(SpeltKey(key, camel))
    }
}

pub(crate) struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a ninjs object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut f = Fields::default();
        while let Some(SpeltKey(key, camel)) = map.next_key()? {
            let slot = match key {
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Key::ExtraHeadline | Key::BodyV1(_) | Key::DescriptionV1(_) => {
                    f.seen.v1 = true;
                    let value: Option<String> =
                        map.next_value::<Option<StringOrOther>>()?.and_then(|s| s.0);
                    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
                        continue;
                    };
                    match key {
                        Key::BodyV1(suffix) => f.bodies_v1.push(Roled::v1(&suffix, value)),
                        Key::DescriptionV1(suffix) => {
                            f.descriptions_v1.push(Roled::v1(&suffix, value))
                        }
                        _ => f.extra_headlines.push(value),
                    }
                    continue;
                }
                Key::Uri => &mut f.uri,
                Key::Version => &mut f.version,
                Key::VersionCreated => &mut f.versioncreated,
                Key::FirstCreated => &mut f.firstcreated,
                Key::Embargoed => &mut f.embargoed,
                Key::PubStatus => &mut f.pubstatus,
                Key::Urgency => &mut f.urgency,
                Key::Headline => {
                    f.seen.v1 = true;
                    &mut f.headline
                }
                Key::Headlines => {
                    f.seen.v2 = true;
                    &mut f.headlines
                }
                Key::Title => &mut f.title,
                Key::Bodies => {
                    f.seen.v2 = true;
                    &mut f.bodies
                }
                Key::Descriptions => &mut f.descriptions,
                Key::By => &mut f.by,
                Key::Byline => {
                    f.seen.v1 = true;
                    &mut f.by
                }
                Key::People => &mut f.people,
                Key::Located => &mut f.located,
                Key::Language => &mut f.language,
                Key::Subjects => &mut f.subjects,
                Key::Subject => {
                    f.seen.v1 = true;
                    &mut f.subjects
                }
                Key::Places => &mut f.places,
                Key::Place => {
                    f.seen.v1 = true;
                    &mut f.places
                }
                Key::CopyrightHolder => &mut f.copyrightholder,
                Key::CopyrightNotice => &mut f.copyrightnotice,
                Key::EdNote => &mut f.ednote,
                Key::Slugline => &mut f.slugline,
                Key::Standard => &mut f.standard,
            };
            f.seen.v3 |= camel;
            *slot = Some(map.next_value()?);
        }
        Ok(f)
    }
}

/// A string, or anything else skipped (`None`), for the 1.x pattern
/// properties whose non-string values we have no use for.
struct StringOrOther(Option<String>);

impl<'de> de::Deserialize<'de> for StringOrOther {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(StringOrOther(match value {
            Value::String(s) => Some(s),
            _ => None,
        }))
    }
}
