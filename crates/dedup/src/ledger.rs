use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wirestream_model::Verdict;

use crate::sketch::Sketch;

/// One version of one item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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
    /// The claiming article's own time (for the horizon).
    pub seen_at: DateTime<Utc>,
    /// Its time minus the horizon: an owner seen before this is too old to
    /// be copied, and the claim takes the hash over (expired in article
    /// time, whether or not the delete has run yet).
    pub not_before: DateTime<Utc>,
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

/// An index entry with the LSH keys it is (to be) listed under.
pub type Keyed = (Vec<u64>, Arc<Entry>);

/// What a ledger knows of an item version before it is decided.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Known {
    /// The decision recorded for this very version (a replay).
    pub decision: Option<Decision>,
    /// The story of the latest recorded version below this one, if any:
    /// `Some(story_uri)` makes this item a new version.
    pub earlier_story: Option<String>,
    /// Another item that holds this version's content key already: this
    /// version is an exact copy of it (the claim will say so too), so its
    /// near copies need not be looked for.
    pub copy_of: Option<Owner>,
}

/// A decision to record, with the article's own time (for the horizon).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub item: ItemVersion,
    pub decision: Decision,
    pub seen_at: DateTime<Utc>,
}

/// Where dedup state is kept. Each call takes a whole batch, so that a
/// database-backed ledger makes a fixed number of round trips per batch
/// (eight in Postgres), not a number per article.
///
/// A batch runs `lookup`, then `near_candidates` (which opens a claim),
/// `claim`, and `commit` (which ends it, unless it refuses the claim: then
/// `refetch` and `commit` again, or the batch starts over).
pub trait Ledger: Send {
    /// For each item version: its recorded decision, its earlier version's
    /// story, and the other item holding its content key (`content_keys`,
    /// one per item: what [`Ledger::claim`] would claim). State older than
    /// each item's `not_before` (its time minus the horizon) is ignored, as
    /// if expired, so that what an item sees does not depend on when the
    /// delete last ran.
    fn lookup(
        &mut self,
        items: &[ItemVersion],
        content_keys: &[String],
        not_before: &[DateTime<Utc>],
    ) -> impl Future<Output = Result<Vec<Known>, LedgerError>> + Send;

    /// Starts a claim: returns the indexed entries under any of these LSH
    /// keys (at most `max_per_key` per key), each once, with the keys of
    /// `keys` it is indexed under; none seen before `not_before` (the
    /// batch's earliest article time minus the horizon). Two near copies
    /// decided at once cannot both miss each other: [`Ledger::commit`]
    /// refuses a claim under whose keys another claim indexed meanwhile.
    fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Keyed>, LedgerError>> + Send;

    /// Claims each hash, in order; an existing or earlier claim wins. Returns
    /// the owner of each hash after the claims.
    fn claim(
        &mut self,
        claims: &[Claim],
    ) -> impl Future<Output = Result<Vec<Owner>, LedgerError>> + Send;

    /// Indexes entries under their keys (skipping keys that hold
    /// `max_per_key` entries already), records decisions (a decision
    /// recorded earlier, by a replay or by another worker, wins) and ends
    /// the claim. Returns the decisions that hold, in order; or `None`, with
    /// nothing committed, when another claim indexed under the same keys
    /// since `near_candidates` (in Postgres: a race between workers, see
    /// docs/dedup.md): then [`Ledger::refetch`] tells what raced in.
    fn commit(
        &mut self,
        entries: &[Keyed],
        decisions: &[Record],
        max_per_key: usize,
    ) -> impl Future<Output = Result<Option<Vec<Decision>>, LedgerError>> + Send;

    /// After [`Ledger::commit`] refused a claim: keeps the claim open (its
    /// hash claims and sketches still in it, the refused band rows and
    /// decisions taken out) and returns the candidates of its `near_candidates` as a fetch
    /// would find them now, what raced in included. The caller decides
    /// again in memory: if no decision changes, it calls `commit` again
    /// with the same entries; if one does, it starts over. `None`: the
    /// claim could not be kept (or the ledger never refuses), so the batch
    /// must be decided again from the start.
    fn refetch(&mut self) -> impl Future<Output = Result<Option<Vec<Keyed>>, LedgerError>> + Send {
        async { Ok(None) }
    }

    /// Removes index entries, content hashes and decisions of articles seen
    /// before `cutoff`; returns how many index entries went. Only storage:
    /// the other calls ignore expired state already.
    fn expire(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, LedgerError>> + Send;
}
