//! Who gave up on an item, and why: the typed `stage` and `reason` of a
//! [`crate::DeadLetter`]. On the wire they stay the strings `as_str` gives,
//! so `wirestream dlq` and the `dead_letters` table read old and new letters alike.

/// The stage that dead-lettered an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Ingest,
    Worker,
    Sink,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Worker => "worker",
            Stage::Sink => "sink",
        }
    }
}

/// Why an item cannot go on. Every variant is permanent: a property of the
/// data, which no retry fixes (transient failures are retried, never dead-lettered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A raw-topic record that does not decode as a raw item.
    InvalidRawItem,
    /// An articles-topic record that does not decode as an article.
    InvalidArticle,
    /// A dead-letter record that does not decode as a dead letter.
    InvalidDeadLetter,
    /// No item id (`uri`).
    MissingId,
    /// Neither a headline nor a body.
    EmptyArticle,
    /// A field PostgreSQL or Kafka cannot take (see [`crate::validate`]).
    InvalidField,
    /// PostgreSQL refused the row for its content (SQLSTATE 22, 23 or 54).
    RejectedByDatabase,
    /// The broker refused the record for good (too large, invalid).
    RejectedByBroker,
}

impl Reason {
    /// Every reason, for metrics that start at zero.
    pub const ALL: [Reason; 8] = [
        Reason::InvalidRawItem,
        Reason::InvalidArticle,
        Reason::InvalidDeadLetter,
        Reason::MissingId,
        Reason::EmptyArticle,
        Reason::InvalidField,
        Reason::RejectedByDatabase,
        Reason::RejectedByBroker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidRawItem => "invalid_raw_item",
            Reason::InvalidArticle => "invalid_article",
            Reason::InvalidDeadLetter => "invalid_dead_letter",
            Reason::MissingId => "missing_id",
            Reason::EmptyArticle => "empty_article",
            Reason::InvalidField => "invalid_field",
            Reason::RejectedByDatabase => "rejected_by_database",
            Reason::RejectedByBroker => "rejected_by_broker",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
