use std::future::Future;

use chrono::{DateTime, Utc};
use wirestream_model::Verdict;

use crate::sketch::Sketch;

/// One version of one item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemVersion {
    pub provider: String,
    pub uri: String,
    pub version: u64,
}

/// What was decided for an item version.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The uri of the first article of the story, when that is another item.
    pub duplicate_of: Option<String>,
    pub similarity: Option<f32>,
}

/// A claim on a content hash by an item of a story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub content_hash: String,
    pub provider: String,
    pub uri: String,
    pub story_uri: String,
}

/// Who holds a content hash: the first item that claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub provider: String,
    pub uri: String,
    pub story_uri: String,
}

/// An article in the near-copy index.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub provider: String,
    pub uri: String,
    /// The story it belongs to (itself, or what it copies).
    pub story_uri: String,
    /// Its own time: `versioncreated`, else `received_at`.
    pub seen_at: DateTime<Utc>,
    pub sketch: Sketch,
}

#[derive(Debug, thiserror::Error)]
#[error("the dedup state is unavailable: {0}")]
pub struct LedgerError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Where dedup state is kept. Each call takes a whole batch, so that a
/// database-backed ledger makes one round trip per batch, not per article.
pub trait Ledger: Send {
    /// Decisions already recorded for these item versions.
    fn recorded(
        &mut self,
        items: &[ItemVersion],
    ) -> impl Future<Output = Result<Vec<Option<Decision>>, LedgerError>> + Send;

    /// For each item, the story of the latest recorded version below the
    /// given one, if any: `Some(story_uri)` means this is a new version.
    fn earlier_versions(
        &mut self,
        items: &[ItemVersion],
    ) -> impl Future<Output = Result<Vec<Option<String>>, LedgerError>> + Send;

    /// Claims each hash, in order; an existing or earlier claim wins. Returns
    /// the owner of each hash after the claims.
    fn claim(
        &mut self,
        claims: &[Claim],
    ) -> impl Future<Output = Result<Vec<Owner>, LedgerError>> + Send;

    /// Records decisions, in order; a decision recorded earlier (by a replay
    /// or by another worker) wins. Returns the decisions that hold.
    fn record(
        &mut self,
        decisions: &[(ItemVersion, Decision)],
    ) -> impl Future<Output = Result<Vec<Decision>, LedgerError>> + Send;

    /// Starts a near-copy claim: returns the indexed entries under any of
    /// these LSH keys (at most `max_per_key` per key), each once, with the
    /// keys of `keys` it is indexed under. Until
    /// [`Ledger::near_insert`] ends the claim, another claim on any of the
    /// same keys waits (in Postgres: advisory locks), so that two near
    /// copies decided at once cannot both miss each other.
    fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
    ) -> impl Future<Output = Result<Vec<(Vec<u64>, Entry)>, LedgerError>> + Send;

    /// Indexes entries under their keys (skipping keys that hold
    /// `max_per_key` entries already) and ends the claim.
    fn near_insert(
        &mut self,
        entries: &[(Vec<u64>, Entry)],
        max_per_key: usize,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Removes index entries seen before `cutoff`; returns how many.
    fn expire(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, LedgerError>> + Send;
}
