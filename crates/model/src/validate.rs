//! What PostgreSQL and Kafka cannot take, checked once for every route an
//! item comes by: ingest refuses such an item with a `400` naming the field,
//! and the worker dead-letters one that reached the raw topic another way.
//!
//! The rules follow the store's schema (`migrations/`):
//! * `provider` and `uri` are the primary key of `articles`,
//!   `article_versions` and the dedup tables: a btree entry holds at most
//!   about 2,700 bytes, so each is capped at [`MAX_ID_BYTES`], well below;
//!   and an id with control characters is refused (they are invisible in
//!   every tool that shows it, and NUL cannot be stored at all).
//! * `version` is a `bigint`.
//! * PostgreSQL `text` and `jsonb` cannot hold NUL (U+0000), so no field may.
//!   (Ingest sends original bytes holding NUL as base64, see
//!   [`crate::Original`]; an original sent as text with NUL is refused.) Invalid UTF-8 cannot reach a `RawItem`: its
//!   fields are Rust strings, and a raw record that is not UTF-8 JSON fails
//!   to decode.

use crate::RawItem;

/// The longest `provider` or `uri`, in bytes.
pub const MAX_ID_BYTES: usize = 1000;

/// A field an item cannot be stored with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}` {problem}")]
pub struct Invalid {
    /// The field's path in the raw item: `uri`, `subjects[2].name`, …
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("holds a NUL character, which PostgreSQL cannot store")]
    Nul,
    #[error("holds a control character (U+{0:04X})")]
    ControlCharacter(u32),
    #[error("is {len} bytes long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("is {0}, above the largest version PostgreSQL stores ({max})", max = i64::MAX)]
    VersionOutOfRange(u64),
}

/// Checks every field of `item` against the rules above; the first problem wins.
pub fn check(item: &RawItem) -> Result<(), Invalid> {
    id("provider", &item.provider)?;
    id("uri", &item.uri)?;
    if let Some(version) = item.version {
        if i64::try_from(version).is_err() {
            return Err(invalid("version", Problem::VersionOutOfRange(version)));
        }
    }
    let texts = [
        ("format_version", item.format_version.as_deref()),
        ("versioncreated", item.versioncreated.as_deref()),
        ("firstcreated", item.firstcreated.as_deref()),
        ("embargoed", item.embargoed.as_deref()),
        ("headline", Some(item.headline.as_str())),
        ("body", item.body.as_ref().map(|b| b.value.as_str())),
        ("description", item.description.as_deref()),
        ("byline", item.byline.as_deref()),
        ("dateline", item.dateline.as_deref()),
        ("language", item.language.as_deref()),
        ("copyright", item.copyright.as_deref()),
        ("ednote", item.ednote.as_deref()),
        ("slugline", item.slugline.as_deref()),
        ("source", Some(item.source.as_str())),
        (
            "original",
            match &item.original {
                crate::Original::Utf8(text) => Some(text.as_str()),
                crate::Original::Base64(_) => None,
            },
        ),
    ];
    for (field, value) in texts {
        no_nul(field, value)?;
    }
    for (n, value) in item.subheadlines.iter().enumerate() {
        no_nul_at(|| format!("subheadlines[{n}]"), value)?;
    }
    for (list, subjects) in [("subjects", &item.subjects), ("places", &item.places)] {
        for (n, subject) in subjects.iter().enumerate() {
            if let Some(code) = &subject.code {
                no_nul_at(|| format!("{list}[{n}].code"), code)?;
            }
            if let Some(name) = &subject.name {
                no_nul_at(|| format!("{list}[{n}].name"), name)?;
            }
        }
    }
    Ok(())
}

fn id(field: &str, value: &str) -> Result<(), Invalid> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        let problem = if c == '\0' {
            Problem::Nul
        } else {
            Problem::ControlCharacter(c as u32)
        };
        return Err(invalid(field, problem));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(invalid(
            field,
            Problem::TooLong {
                len: value.len(),
                max: MAX_ID_BYTES,
            },
        ));
    }
    Ok(())
}

fn no_nul(field: &str, value: Option<&str>) -> Result<(), Invalid> {
    match value {
        Some(value) if value.contains('\0') => Err(invalid(field, Problem::Nul)),
        _ => Ok(()),
    }
}

/// [`no_nul`] for fields whose name is built only when it is needed.
fn no_nul_at(field: impl FnOnce() -> String, value: &str) -> Result<(), Invalid> {
    if value.contains('\0') {
        return Err(Invalid {
            field: field(),
            problem: Problem::Nul,
        });
    }
    Ok(())
}

fn invalid(field: &str, problem: Problem) -> Invalid {
    Invalid {
        field: field.to_owned(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, Original, Subject};

    fn item() -> RawItem {
        let mut item = RawItem::new(
            Format::Ninjs,
            Original::from_bytes(b"{}"),
            chrono::Utc::now(),
        );
        item.provider = "reuters".into();
        item.uri = "urn:x:1".into();
        item.headline = "Headline".into();
        item
    }

    fn field_of(item: &RawItem) -> Option<String> {
        check(item).err().map(|e| e.field)
    }

    #[test]
    fn a_plain_item_passes() {
        assert_eq!(check(&item()), Ok(()));
    }

    #[test]
    fn ids_refuse_controls_and_length() {
        let mut nul = item();
        nul.uri = "urn:x:1\u{0}".into();
        let error = check(&nul).unwrap_err();
        assert_eq!((error.field.as_str(), error.problem), ("uri", Problem::Nul));

        let mut tab = item();
        tab.provider = "reu\tters".into();
        assert_eq!(field_of(&tab).as_deref(), Some("provider"));

        let mut long = item();
        long.uri = "u".repeat(MAX_ID_BYTES + 1);
        assert!(matches!(
            check(&long).unwrap_err().problem,
            Problem::TooLong { .. }
        ));
        long.uri = "u".repeat(MAX_ID_BYTES);
        assert_eq!(check(&long), Ok(()), "the bound itself is allowed");
    }

    #[test]
    fn versions_must_fit_a_bigint() {
        let mut big = item();
        big.version = Some(i64::MAX as u64 + 1);
        assert_eq!(field_of(&big).as_deref(), Some("version"));
        big.version = Some(i64::MAX as u64);
        assert_eq!(check(&big), Ok(()));
    }

    #[test]
    fn nul_is_refused_in_every_text_field_but_controls_only_in_ids() {
        let mut headline = item();
        headline.headline = "a\u{0}b".into();
        assert_eq!(field_of(&headline).as_deref(), Some("headline"));

        let mut subject = item();
        subject.subjects = vec![
            Subject::default(),
            Subject {
                code: None,
                name: Some("x\u{0}".into()),
            },
        ];
        assert_eq!(field_of(&subject).as_deref(), Some("subjects[1].name"));

        let mut tab = item();
        tab.headline = "a\tb\u{1}".into();
        assert_eq!(check(&tab), Ok(()), "the worker cleans text fields");
    }
}
