use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Original, Reason, Stage};

/// Version of the dead-letter JSON contract.
pub const DEAD_LETTER_SCHEMA: u32 = 1;

/// An item a stage could not handle, kept with the reason so that it can be
/// inspected and replayed (`wirestream dlq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub schema: u32,
    /// The stage that gave up: `ingest`, `worker` or `sink`.
    pub stage: String,
    /// A stable, machine-readable reason (`empty_article`, `invalid_json`, …).
    pub reason: String,
    /// A human-readable explanation.
    pub detail: String,
    /// The Kafka key of the item, when it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
    pub failed_at: DateTime<Utc>,
    /// Where the failing record was read from (`topic/partition/offset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The bytes the stage was given.
    pub original: Original,
}

impl DeadLetter {
    /// A letter from `stage` for `reason`: both typed, so that every reason
    /// on the topic is one of [`Reason`]'s.
    pub fn new(
        stage: Stage,
        reason: Reason,
        detail: impl Into<String>,
        original: Original,
    ) -> Self {
        DeadLetter {
            schema: DEAD_LETTER_SCHEMA,
            stage: stage.as_str().to_owned(),
            reason: reason.as_str().to_owned(),
            detail: detail.into(),
            key: None,
            source: String::new(),
            received_at: None,
            failed_at: Utc::now(),
            origin: None,
            original,
        }
    }
}
