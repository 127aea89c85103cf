//! The records that travel between wirestream's stages.
//!
//! * [`RawItem`] is what `ingest` writes to the raw topic: one news item as the
//!   provider sent it, mapped to a single format-independent shape so that no
//!   later stage branches on the input format again.
//! * [`Article`] is what the worker writes to the articles topic: the
//!   normalised, deduplicated record the sink stores in Postgres.
//! * [`DeadLetter`] is what any stage writes to the dead-letter topic for an
//!   item it could not handle, with the reason and the original bytes.
//!
//! All three are serialised as JSON. Each carries a `schema` number that is
//! bumped on incompatible changes (see `docs/raw-topic.md` and `docs/article.md`).

mod article;
mod dead_letter;
mod original;
mod raw;
mod reason;
pub mod validate;

#[cfg(feature = "fixtures")]
pub mod fixtures;

pub use article::{Article, LanguageSource, Verdict, ARTICLE_SCHEMA};
pub use dead_letter::{DeadLetter, DEAD_LETTER_SCHEMA};
pub use original::Original;
pub use raw::{Body, BodyKind, Format, PubStatus, RawItem, Subject, RAW_SCHEMA};
pub use reason::{Reason, Stage};

/// Kafka header names shared by every topic.
pub mod headers {
    /// The input format of the item (`ninjs`, `newsml-g2`, …).
    pub const FORMAT: &str = "wirestream-format";
    /// Where the item came from: `http:<token name>`, `spool:<folder>`, `feed:<url>`, `cli`.
    pub const SOURCE: &str = "wirestream-source";
    /// When ingest received the item, RFC 3339 with microseconds.
    pub const RECEIVED_AT: &str = "wirestream-received-at";
    /// The record's schema, e.g. `raw/1`.
    pub const SCHEMA: &str = "wirestream-schema";
}

/// The Kafka key of an item: provider and item id, so that every version of
/// one item lands on the same partition, in order.
pub fn item_key(provider: &str, uri: &str) -> String {
    format!("{provider}\u{1f}{uri}")
}
