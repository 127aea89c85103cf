//! The dedup thresholds. Every one is documented in docs/dedup.md, with the
//! evaluation that chose its default.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Near-copy detection settings (`[worker.dedup]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Near-copy detection on or off (exact copies are always found).
    pub near: bool,
    /// Words per shingle.
    pub shingle_words: usize,
    /// MinHash values per article; `bands * rows` of them make the LSH keys.
    pub bands: usize,
    pub rows: usize,
    /// One more LSH key: the hash of the first this many shingles, so that a
    /// first take (the opening paragraphs) meets its full story even though
    /// their Jaccard similarity is low. 0 turns it off.
    pub lead_shingles: usize,
    /// Shingle digests kept per article for verification (a bottom-k sketch:
    /// exact for shorter articles, an unbiased sample for longer ones).
    pub sketch_shingles: usize,
    /// Number digests kept per article.
    pub sketch_numbers: usize,
    /// A copy when the Jaccard similarity of the shingle sets reaches this…
    pub jaccard: f32,
    /// …or when the smaller article's shingles are this much contained in
    /// the larger one's (first takes, updates with added paragraphs)…
    pub containment: f32,
    /// …and the smaller article has at least this many shingles (a short
    /// item is contained in too many others to say anything).
    pub containment_min_shingles: usize,
    /// Numbers of the smaller article missing from the larger one that are
    /// tolerated: at most `max(number_misses, number_miss_ratio * count)`.
    /// A correction changes one figure; two companies' results share none.
    pub number_misses: usize,
    pub number_miss_ratio: f32,
    /// A near copy sent more than this long after (or before) its
    /// candidate must be a closer copy: Jaccard >= `late_jaccard` and no
    /// figure changed. A correction or an update follows its story within
    /// days; the same template with new figures weeks later ("FED ADDS
    /// RESERVES VIA CUSTOMER REPURCHASES", every morning) is a new story.
    #[serde(with = "humantime_serde")]
    pub recent: Duration,
    pub late_jaccard: f32,
    /// Below this many shingles (the smaller article), two headlines that
    /// each have a word the other lacks are two subjects: short templated
    /// notices ("FRANKLIN CALIFORNIA SETS MONTHLY PAYOUT" and "FRANKLIN
    /// MASSACHUSETTS …") differ in little else. A re-titled re-send drops or
    /// adds words on one side only.
    pub short_shingles: usize,
    /// Entries kept per LSH key; later articles are not indexed under a key
    /// that is full (boilerplate that every results table shares). 16, not
    /// 64: a full key no longer moves, so concurrent workers stop racing on
    /// it, and the Reuters corpus gets the same verdicts with either
    /// (docs/dedup.md, "Workers side by side").
    pub max_per_key: usize,
    /// How long an article stays in the index, in its own time
    /// (`versioncreated`, else `received_at`).
    #[serde(with = "humantime_serde")]
    pub horizon: Duration,
    /// How far behind the newest article time decided so far an item may
    /// be and still get the verdict it would get in time order, whatever
    /// the batching: the deletes of expired state keep this much article
    /// time beyond the horizon. An older item is counted as late (its
    /// verdict may depend on when the delete ran). Storage spans
    /// `horizon + allowed_lateness` of article time (docs/dedup.md, "Late
    /// items and allowed lateness").
    #[serde(with = "humantime_serde")]
    pub allowed_lateness: Duration,
    /// "The newest article time decided" means the time this many decided
    /// items have reached (`wirestream_dedup::watermark`), so that a few
    /// items dated far ahead (or undated ones, timed by their receipt, in
    /// an archive replay) do not make the deletes and the late count cut
    /// from their date.
    pub watermark_rank: usize,
    /// In-process deduplication (`wirestream dedup`): expired entries are
    /// deleted every this many batches, between two batches.
    pub expire_every: u32,
    /// The worker: its background task deletes expired entries this often,
    /// off the batch path, a bounded number of rows per statement (0 turns
    /// it off). Decisions do not depend on it (docs/dedup.md, "Horizon").
    #[serde(with = "humantime_serde")]
    pub expire_interval: Duration,
    /// Start even though these parameters differ from those the stored
    /// index was built with, and record them (docs/dedup.md, "Changing the
    /// parameters"): entries indexed before keep the old ones until they
    /// expire.
    pub accept_parameter_change: bool,
}

impl DedupConfig {
    /// The most LSH keys an article is indexed under: one per band, plus
    /// the lead key (`sketch::fingerprint`); none without near copies.
    pub fn max_keys_per_article(&self) -> usize {
        if self.near {
            self.bands + usize::from(self.lead_shingles > 0)
        } else {
            0
        }
    }
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            near: true,
            shingle_words: 3,
            bands: 32,
            rows: 2,
            lead_shingles: 10,
            sketch_shingles: 128,
            sketch_numbers: 32,
            jaccard: 0.7,
            containment: 0.7,
            containment_min_shingles: 8,
            number_misses: 1,
            number_miss_ratio: 0.1,
            recent: Duration::from_secs(3 * 24 * 3600),
            late_jaccard: 0.9,
            short_shingles: 60,
            max_per_key: 16,
            horizon: Duration::from_secs(30 * 24 * 3600),
            // One horizon, the slack the deletes always kept.
            allowed_lateness: Duration::from_secs(30 * 24 * 3600),
            watermark_rank: crate::watermark::DEFAULT_RANK,
            expire_every: 20,
            expire_interval: Duration::from_secs(10),
            accept_parameter_change: false,
        }
    }
}
