//! ninjs (IPTC News in JSON), versions 1.x, 2.x and 3.x, in one lenient pass.
//!
//! The versions differ mostly in spelling: 1.x has `headline`, `byline`,
//! `body_text`/`body_html`, `subject`, `place`; 2.x has `headlines`,
//! `bodies`, `subjects`, `places`, `by`; 3.x is 2.x in camelCase
//! (`versionCreated`, `pubStatus`, `copyrightHolder`, `embargoedUntil`).
//! Keys are matched case-insensitively, so every spelling lands in the same
//! field, and keys we do not map (renditions, associations, …) are skipped
//! without being built.

mod fields;

use serde::Deserializer as _;
use serde_json::Value;
use wirestream_model::{Body, BodyKind, Format, PubStatus, RawItem, Subject};

use crate::common::{new_item, non_blank, provider};
use crate::sniff::strip_utf8_bom;
use crate::{Context, ErrorKind, Location, ParseError};
use fields::{Fields, Seen};

/// Parses one ninjs document (a JSON object).
///
/// `uri` is required, as the ninjs schemas say: an object without it is a
/// [`ErrorKind::MissingField`] error rather than an item with a made-up id,
/// because ninjs producers always set it and its absence means the JSON is
/// not ninjs at all.
pub(crate) fn parse(bytes: &[u8], ctx: &Context) -> Result<RawItem, ParseError> {
    let (json, bom) = strip_utf8_bom(bytes);
    // Checked up front for a precise offset: serde_json would only say
    // "invalid unicode code point" somewhere in a string.
    let text = std::str::from_utf8(json)
        .map_err(|e| crate::text::not_utf8(bytes, bom + e.valid_up_to()))?;
    let start = json.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| (i, json[i])) {
        None => return Err(ParseError::new(ErrorKind::Empty, "the document is empty")),
        Some((_, b'{')) => {}
        Some((i, other)) => {
            return Err(ParseError::new(
                ErrorKind::InvalidJson,
                format!(
                    "a ninjs document must be a JSON object, but this one starts with `{}`",
                    char::from(other).escape_default()
                ),
            )
            .at_offset(bytes, bom + i))
        }
    }

    let mut de = serde_json::Deserializer::from_str(text);
    let fields = de
        .deserialize_map(fields::FieldsVisitor)
        .and_then(|f| de.end().map(|()| f))
        .map_err(|e| json_error(&e, bytes, bom))?;
    fields.into_item(bytes, ctx)
}

/// A serde_json error as an [`ErrorKind::InvalidJson`] with its location.
pub(crate) fn json_error(e: &serde_json::Error, bytes: &[u8], bom: usize) -> ParseError {
    let (line, column) = (e.line(), e.column());
    let full = e.to_string();
    let mut message = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full)
        .to_owned();
    if message.starts_with("trailing characters") {
        message.push_str(" after the JSON object (several documents? send them as NDJSON)");
    }
    // serde_json gives line and column (1-based, in bytes); add the offset.
    let line_start = if line <= 1 {
        bom
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(bytes.len(), |(i, _)| i + 1)
    };
    let byte = (line_start + column.saturating_sub(1)).min(bytes.len());
    ParseError::new(ErrorKind::InvalidJson, message).location(Location {
        line: Some(line),
        column: Some(column),
        byte: Some(byte),
    })
}

impl Fields {
    fn into_item(self, bytes: &[u8], ctx: &Context) -> Result<RawItem, ParseError> {
        let uri = self
            .uri
            .map(|v| text("uri", v))
            .transpose()?
            .flatten()
            .ok_or_else(|| {
                ParseError::new(
                    ErrorKind::MissingField,
                    "missing: every ninjs object needs a `uri`",
                )
                .field("uri")
            })?;
        let copyrightholder = opt_text("copyrightholder", self.copyrightholder)?;

        let mut item = new_item(Format::Ninjs, bytes, ctx);
        item.provider = provider(ctx, copyrightholder.as_deref(), &uri);
        item.uri = uri;
        item.format_version = format_version(self.standard.as_ref(), self.seen);
        item.version = self
            .version
            .map(|v| number("version", v, u64::MAX))
            .transpose()?
            .flatten();
        item.urgency = self
            .urgency
            .map(|v| number("urgency", v, 9))
            .transpose()?
            .flatten()
            .and_then(|u| u8::try_from(u).ok());
        if let Some(status) = opt_text("pubstatus", self.pubstatus)? {
            item.pubstatus = PubStatus::parse(&status).ok_or_else(|| {
                ParseError::new(
                    ErrorKind::InvalidField,
                    format!("unknown status \"{status}\": expected usable, withheld or canceled"),
                )
                .field("pubstatus")
            })?;
        }
        item.versioncreated = opt_text("versioncreated", self.versioncreated)?;
        item.firstcreated = opt_text("firstcreated", self.firstcreated)?;
        item.embargoed = opt_text("embargoed", self.embargoed)?;

        let mut headlines = roled_values("headlines", self.headlines)?;
        if let Some(main) = opt_text("headline", self.headline)? {
            headlines.insert(
                0,
                Roled {
                    role: Some("main".into()),
                    contenttype: None,
                    value: main,
                },
            );
        }
        headlines.extend(self.extra_headlines.into_iter().map(|value| Roled {
            role: None,
            contenttype: None,
            value,
        }));
        let main = headlines
            .iter()
            .position(|h| {
                h.role
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case("main"))
            })
            .unwrap_or(0);
        if main < headlines.len() {
            item.headline = headlines.remove(main).value;
        } else if let Some(title) = opt_text("title", self.title)? {
            // `title` is metadata, but better than nothing for a picture.
            item.headline = title;
        }
        item.subheadlines = headlines.into_iter().map(|h| h.value).collect();

        let mut bodies = roled_values("bodies", self.bodies)?;
        bodies.extend(self.bodies_v1);
        item.body = best_body(bodies);

        let mut descriptions = roled_values("descriptions", self.descriptions)?;
        descriptions.extend(self.descriptions_v1);
        item.description = best_description(descriptions);

        item.byline = match opt_text("by", self.by)? {
            Some(by) => Some(by),
            None => authors(self.people),
        };
        item.dateline = opt_text("located", self.located)?;
        item.language = opt_text("language", self.language)?;
        item.subjects = subjects("subjects", self.subjects)?;
        item.places = subjects("places", self.places)?;
        item.copyright = match copyrightholder {
            Some(holder) => Some(holder),
            None => opt_text("copyrightnotice", self.copyrightnotice)?,
        };
        item.ednote = opt_text("ednote", self.ednote)?;
        item.slugline = opt_text("slugline", self.slugline)?;
        Ok(item)
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid(field: &str, message: String) -> ParseError {
    ParseError::new(ErrorKind::InvalidField, message).field(field)
}

/// A text field. Numbers and booleans are taken as their JSON spelling (a
/// numeric slugline is still a slugline); blank strings and null are `None`.
fn text(field: &str, value: Value) -> Result<Option<String>, ParseError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(non_blank(s)),
        Value::Bool(_) | Value::Number(_) => Ok(Some(value.to_string())),
        other => Err(invalid(
            field,
            format!("expected a string, got {}", type_name(&other)),
        )),
    }
}

fn opt_text(field: &str, value: Option<Value>) -> Result<Option<String>, ParseError> {
    value
        .map(|v| text(field, v))
        .transpose()
        .map(Option::flatten)
}

/// A whole number sent as a number or a string (`"version": "2"`), at most `max`.
fn number(field: &str, value: Value, max: u64) -> Result<Option<u64>, ParseError> {
    let parsed = match &value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    match parsed {
        Some(n) if n <= max => Ok(Some(n)),
        _ => Err(invalid(
            field,
            format!("expected a whole number from 0 to {max}, got {value}"),
        )),
    }
}

/// A headline, body or description object: `{role, contenttype, value}`.
#[derive(Debug)]
pub(crate) struct Roled {
    role: Option<String>,
    contenttype: Option<String>,
    value: String,
}

impl Roled {
    pub(crate) fn v1(suffix: &str, value: String) -> Roled {
        let contenttype = match suffix {
            "html" | "xhtml" => "text/html",
            "text" => "text/plain",
            _ => "",
        };
        Roled {
            role: Some(suffix.to_owned()),
            contenttype: non_blank(contenttype),
            value,
        }
    }
}

/// The objects of `headlines`, `bodies` or `descriptions`, in order; those
/// without a value are skipped. A lone string counts as one object.
fn roled_values(field: &str, value: Option<Value>) -> Result<Vec<Roled>, ParseError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => {
            return Ok(non_blank(s)
                .map(|value| Roled {
                    role: None,
                    contenttype: None,
                    value,
                })
                .into_iter()
                .collect())
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(invalid(
                field,
                format!("expected an array, got {}", type_name(&other)),
            ))
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, entry) in list.into_iter().enumerate() {
        let entry_field = || format!("{field}[{i}]");
        let mut object = match entry {
            Value::Object(object) => object,
            Value::String(s) => {
                out.extend(non_blank(s).map(|value| Roled {
                    role: None,
                    contenttype: None,
                    value,
                }));
                continue;
            }
            other => {
                return Err(invalid(
                    &entry_field(),
                    format!("expected an object, got {}", type_name(&other)),
                ))
            }
        };
        let mut take = |key: &str| {
            let key = object.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
            key.and_then(|k| object.remove(&k))
        };
        let (role, contenttype, value) = (take("role"), take("contenttype"), take("value"));
        let Some(value) = opt_text(&format!("{}.value", entry_field()), value)? else {
            continue;
        };
        out.push(Roled {
            role: opt_text(&format!("{}.role", entry_field()), role)?,
            contenttype: opt_text(&format!("{}.contenttype", entry_field()), contenttype)?,
            value,
        });
    }
    Ok(out)
}

/// How the value of a body is marked up, from its content type or role;
/// `None` for bodies that are neither text nor HTML (TT's `ttnitf` XML).
fn body_kind(body: &Roled) -> Option<BodyKind> {
    let markup = |s: &str| {
        let s = s.to_ascii_lowercase();
        if s.contains("html") {
            Some(BodyKind::Html)
        } else if s.contains("text") || s == "main" {
            Some(BodyKind::Text)
        } else {
            None
        }
    };
    match (&body.contenttype, &body.role) {
        (Some(ct), _) => markup(ct),
        (None, Some(role)) => markup(role).or(Some(BodyKind::Text)),
        (None, None) => Some(BodyKind::Text),
    }
}

/// The richest body: HTML over text (it keeps paragraphs and quotes), and
/// among equals the one with role `main`, else the first.
fn best_body(bodies: Vec<Roled>) -> Option<Body> {
    let rank = |b: &Roled| {
        let kind = match body_kind(b) {
            Some(BodyKind::Html) => 2,
            Some(BodyKind::Text) => 1,
            None => 0,
        };
        let main = b
            .role
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("main"));
        (kind, main)
    };
    let mut best: Option<(Roled, (u8, bool))> = None;
    for body in bodies {
        let r = rank(&body);
        let better = match &best {
            None => true,
            Some((_, top)) => r > *top,
        };
        if r.0 > 0 && better {
            best = Some((body, r));
        }
    }
    best.and_then(|(b, _)| {
        Some(Body {
            kind: body_kind(&b)?,
            value: b.value,
        })
    })
}

/// The description that summarises the item: a summary or text role before
/// a caption, and never a credit line.
fn best_description(descriptions: Vec<Roled>) -> Option<String> {
    const PREFERRED: [&str; 6] = [
        "summary",
        "abstract",
        "text",
        "main",
        "description",
        "caption",
    ];
    let rank = |d: &Roled| {
        let role = d.role.as_deref().unwrap_or("").to_ascii_lowercase();
        PREFERRED
            .iter()
            .position(|p| *p == role)
            .unwrap_or(if role.is_empty() { 2 } else { PREFERRED.len() })
    };
    descriptions
        .into_iter()
        .filter(|d| {
            !d.role
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case("creditline"))
        })
        .min_by_key(rank)
        .map(|d| d.value)
}

/// A byline from 3.x `people` whose `rel` (or `role`) says author or
/// creator, for items without `by`.
fn authors(people: Option<Value>) -> Option<String> {
    let Some(Value::Array(people)) = people else {
        return None;
    };
    let names: Vec<&str> = people
        .iter()
        .filter(|p| {
            ["rel", "role"].iter().any(|k| {
                p.get(k).and_then(Value::as_str).is_some_and(|r| {
                    let r = r.to_ascii_lowercase();
                    r.contains("author") || r.contains("creator")
                })
            })
        })
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    non_blank(names.join(", "))
}

/// `subjects` or `places`: `{name, uri | code | literal}` objects, or strings.
fn subjects(field: &str, value: Option<Value>) -> Result<Vec<Subject>, ParseError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(invalid(
                field,
                format!("expected an array, got {}", type_name(&other)),
            ))
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, entry) in list.into_iter().enumerate() {
        let mut object = match entry {
            Value::Object(object) => object,
            Value::String(s) => {
                out.extend(non_blank(s).map(|name| Subject {
                    code: None,
                    name: Some(name),
                }));
                continue;
            }
            other => {
                return Err(invalid(
                    &format!("{field}[{i}]"),
                    format!("expected an object, got {}", type_name(&other)),
                ))
            }
        };
        let mut take = |key: &str| object.remove(key).and_then(|v| text(key, v).ok().flatten());
        let name = take("name");
        let code = take("uri")
            .or_else(|| take("code"))
            .or_else(|| take("literal"))
            .or_else(|| take("qcode"));
        if name.is_some() || code.is_some() {
            out.push(Subject { code, name });
        }
    }
    Ok(out)
}

/// The ninjs version: `standard.version` (`$standard` in 1.x) or the version
/// in its schema URL when the document says it; else a guess of the major
/// version from the spelling seen (`1` for `headline`/`body_*`/`byline`,
/// `3` for camelCase keys, `2` for `headlines`/`bodies`).
fn format_version(standard: Option<&Value>, seen: Seen) -> Option<String> {
    if let Some(standard) = standard {
        let get = |key: &str| {
            standard
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .and_then(|(_, v)| v.as_str())
        };
        let is_ninjs = match get("name") {
            None => true,
            Some(name) => name.to_ascii_lowercase().contains("ninjs"),
        };
        if let Some(version) = get("version").filter(|_| is_ninjs) {
            return Some(version.to_owned());
        }
        if let Some(version) = get("schema").and_then(|s| s.split("ninjs-schema_").nth(1)) {
            return Some(version.split(".json").next().unwrap_or(version).to_owned());
        }
    }
    match seen {
        Seen { v3: true, .. } => Some("3".into()),
        Seen { v1: true, .. } => Some("1".into()),
        Seen { v2: true, .. } => Some("2".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
