use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use crate::index::Index;
use crate::ledger::{
    Claim, Decision, ItemVersion, Keyed, Known, Ledger, LedgerError, Owner, Record,
};

/// Every recorded version of an item: version, story, article time.
type Versions = Vec<(u64, String, DateTime<Utc>)>;

/// Dedup state in memory, for `wirestream dedup` and for tests.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    /// Per item version: its decision, its story and its article's time.
    decisions: FxHashMap<ItemVersion, (Decision, String, DateTime<Utc>)>,
    /// Per provider, per uri: every recorded version with the story it
    /// belongs to and its time (nested, so a lookup copies no string).
    versions: FxHashMap<String, FxHashMap<String, Versions>>,
    hashes: FxHashMap<String, (Owner, DateTime<Utc>)>,
    near: Index,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// A ledger whose near-copy index is sized for `articles` articles of
    /// `keys_per_article` LSH keys each. When the caller knows the volume
    /// (`wirestream dedup` on files), growing the index instead was a
    /// sixth of the run: every doubling of its key map rehashes it and
    /// faults in fresh pages.
    pub fn with_capacity(articles: usize, keys_per_article: usize) -> Self {
        MemoryLedger {
            near: Index::with_capacity(articles, articles.saturating_mul(keys_per_article)),
            ..Self::default()
        }
    }

    /// Articles in the near-copy index.
    pub fn indexed(&self) -> usize {
        self.near.len()
    }

    /// Approximate heap bytes of the near-copy index.
    pub fn index_bytes(&self) -> usize {
        self.near.bytes()
    }

    /// Content hashes and decisions held (they expire with the index).
    pub fn held(&self) -> (usize, usize) {
        (self.hashes.len(), self.decisions.len())
    }
}

impl Ledger for MemoryLedger {
    async fn lookup(
        &mut self,
        items: &[ItemVersion],
        content_keys: &[String],
        not_before: &[DateTime<Utc>],
    ) -> Result<Vec<Known>, LedgerError> {
        Ok(items
            .iter()
            .zip(content_keys)
            .zip(not_before)
            .map(|((item, key), &not_before)| Known {
                copy_of: self
                    .hashes
                    .get(key)
                    .filter(|(_, seen_at)| *seen_at >= not_before)
                    .map(|(owner, _)| owner)
                    .filter(|owner| owner.provider != item.provider || owner.uri != item.uri)
                    .cloned(),
                decision: self.decisions.get(item).map(|(d, _, _)| d.clone()),
                earlier_story: self
                    .versions
                    .get(item.provider.as_str())
                    .and_then(|uris| uris.get(item.uri.as_str()))
                    .and_then(|seen| {
                        seen.iter()
                            .filter(|(version, _, at)| *version < item.version && *at >= not_before)
                            .max_by_key(|(version, _, _)| *version)
                            .map(|(_, story, _)| story.clone())
                    }),
            })
            .collect())
    }

    async fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> Result<Vec<Keyed>, LedgerError> {
        // One process, one claim at a time: nothing to lock.
        Ok(self.near.lookup(keys, max_per_key, not_before))
    }

    async fn claim(&mut self, claims: &[Claim]) -> Result<Vec<Owner>, LedgerError> {
        Ok(claims
            .iter()
            .map(|claim| {
                let mine = || {
                    let owner = Owner {
                        provider: claim.provider.clone(),
                        uri: claim.uri.clone(),
                        story_uri: claim.story_uri.clone(),
                    };
                    (owner, claim.seen_at)
                };
                let held = self
                    .hashes
                    .entry(claim.content_hash.clone())
                    .or_insert_with(mine);
                // An owner past this claim's horizon is expired: taken over.
                if held.1 < claim.not_before {
                    *held = mine();
                }
                held.0.clone()
            })
            .collect())
    }

    async fn commit(
        &mut self,
        entries: &[Keyed],
        decisions: &[Record],
        max_per_key: usize,
    ) -> Result<Option<Vec<Decision>>, LedgerError> {
        // One process, one batch at a time: a claim never races.
        for (keys, entry) in entries {
            self.near.insert(keys, Arc::clone(entry), max_per_key);
        }
        Ok(decisions
            .iter()
            .map(|record| {
                let item = &record.item;
                let story = record
                    .decision
                    .duplicate_of
                    .clone()
                    .unwrap_or_else(|| item.uri.clone());
                let (held, story, _) = self
                    .decisions
                    .entry(item.clone())
                    .or_insert_with(|| (record.decision.clone(), story, record.seen_at))
                    .clone();
                let uris = match self.versions.get_mut(item.provider.as_str()) {
                    Some(uris) => uris,
                    None => self.versions.entry(item.provider.clone()).or_default(),
                };
                match uris.get_mut(item.uri.as_str()) {
                    Some(seen) => seen.push((item.version, story, record.seen_at)),
                    None => {
                        uris.insert(
                            item.uri.clone(),
                            vec![(item.version, story, record.seen_at)],
                        );
                    }
                }
                held
            })
            .collect::<Vec<_>>()
            .into())
    }

    async fn expire(&mut self, cutoff: DateTime<Utc>) -> Result<u64, LedgerError> {
        self.hashes.retain(|_, (_, seen_at)| *seen_at >= cutoff);
        self.decisions
            .retain(|_, (_, _, seen_at)| *seen_at >= cutoff);
        self.versions.retain(|_, uris| {
            uris.retain(|_, seen| {
                seen.retain(|(_, _, seen_at)| *seen_at >= cutoff);
                !seen.is_empty()
            });
            !uris.is_empty()
        });
        Ok(self.near.expire(cutoff))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use wirestream_model::{fixtures, Article, PubStatus, Verdict};

    use crate::{Deduplicator, MemoryLedger};

    fn article(uri: &str, version: u64, hash: &str, pubstatus: PubStatus) -> Article {
        // Distinct hashes, distinct words: no near copies here.
        let mut a = fixtures::article(uri, "H", &format!("the story told as {hash}"));
        a.version = version;
        a.pubstatus = pubstatus;
        a.content_hash = hash.into();
        a.versioncreated = None;
        a.received_at = Utc::now();
        a
    }

    fn verdicts(batch: &[Article]) -> Vec<(Verdict, Option<&str>)> {
        batch
            .iter()
            .map(|a| (a.verdict, a.duplicate_of.as_deref()))
            .collect()
    }

    #[tokio::test]
    async fn new_version_duplicate_and_kill() {
        let mut dedup = Deduplicator::new(MemoryLedger::new());
        let mut batch = vec![
            article("a", 1, "h1", PubStatus::Usable),
            article("b", 1, "h1", PubStatus::Usable),
            article("a", 2, "h2", PubStatus::Usable),
            article("c", 1, "h3", PubStatus::Usable),
        ];
        dedup.decide(&mut batch).await.unwrap();
        assert_eq!(
            verdicts(&batch),
            vec![
                (Verdict::New, None),
                (Verdict::Duplicate, Some("a")),
                (Verdict::Version, None),
                (Verdict::New, None),
            ]
        );

        let mut later = vec![
            article("c", 2, "h3", PubStatus::Canceled),
            article("d", 1, "h2", PubStatus::Usable),
        ];
        dedup.decide(&mut later).await.unwrap();
        assert_eq!(
            verdicts(&later),
            vec![(Verdict::Kill, None), (Verdict::Duplicate, Some("a"))]
        );
    }

    #[tokio::test]
    async fn a_replay_gets_the_first_decision() {
        let mut dedup = Deduplicator::new(MemoryLedger::new());
        let mut first = vec![
            article("a", 1, "h1", PubStatus::Usable),
            article("b", 1, "h1", PubStatus::Usable),
        ];
        dedup.decide(&mut first).await.unwrap();
        // Replayed in the opposite order, the decisions stay as they were.
        let mut replay = vec![
            article("b", 1, "h1", PubStatus::Usable),
            article("a", 1, "h1", PubStatus::Usable),
        ];
        dedup.decide(&mut replay).await.unwrap();
        assert_eq!(
            verdicts(&replay),
            vec![(Verdict::Duplicate, Some("a")), (Verdict::New, None)]
        );
    }

    // Reuters-21578 #1 (Bahia cocoa review), its first take and a re-wrap.
    const P1: &str = "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January and improving prospects for the coming temporao, although normal humidity levels have not been restored, Comissaria Smith said in its weekly review.";
    const P2: &str = "The dry period means the temporao will be late this year.";
    const P3: &str = "Arrivals for the week ended February 22 were 155,221 bags of 60 kilos making a cumulative total for the season of 5.93 mln against 5.81 at the same stage last year. Again it seems that cocoa delivered earlier on consignment was included in the arrivals figures.";

    fn story(uri: &str, body: &str, day: u32) -> Article {
        let mut a = article(uri, 1, "", PubStatus::Usable);
        a.headline = "BAHIA COCOA REVIEW".into();
        a.body = body.into();
        a.content_hash = wirestream_normalize::content_hash(&a.headline, body);
        a.versioncreated =
            chrono::TimeZone::with_ymd_and_hms(&Utc, 1987, 2, day, 15, 1, 1).single();
        a
    }

    #[tokio::test]
    async fn first_takes_updates_and_rewraps_join_the_first_story() {
        let mut dedup = Deduplicator::new(MemoryLedger::new());
        let take = format!("{P1}\n\n{P2}");
        let full = format!("{P1}\n\n{P2}\n\n{P3}");
        let mut first = vec![story("take", &take, 26), story("full", &full, 26)];
        dedup.decide(&mut first).await.unwrap();
        assert_eq!(
            verdicts(&first),
            vec![(Verdict::New, None), (Verdict::Duplicate, Some("take"))]
        );
        assert_eq!(
            first[1].similarity,
            Some(1.0),
            "the take is wholly contained in the story"
        );

        // A later batch: a re-typeset copy of the full story, and a copy with
        // one figure corrected, both point to the first take's story.
        let retyped = full.replace(". ", ".\n  ").to_uppercase();
        let corrected = full.replace("5.93 mln", "5.95 mln");
        let mut later = vec![
            story("retyped", &retyped, 27),
            story("corrected", &corrected, 27),
        ];
        dedup.decide(&mut later).await.unwrap();
        assert_eq!(
            verdicts(&later),
            vec![
                (Verdict::Duplicate, Some("take")),
                (Verdict::Duplicate, Some("take"))
            ]
        );
        assert_eq!(
            later[0].similarity,
            Some(1.0),
            "same matching form: exact copy"
        );

        // Past the horizon the index has forgotten the story.
        let config = crate::DedupConfig {
            expire_every: 1,
            // A handful of items: the newest one is the watermark.
            watermark_rank: 1,
            ..Default::default()
        };
        let mut dedup = Deduplicator::with_config(MemoryLedger::new(), config);
        dedup.decide(&mut [story("old", &full, 1)]).await.unwrap();
        assert_eq!(dedup.ledger().indexed(), 1);
        let mut months_later = [story("new", &corrected, 1)];
        months_later[0].versioncreated = months_later[0]
            .versioncreated
            .map(|t| t + chrono::Duration::days(40));
        dedup.decide(&mut months_later).await.unwrap();
        assert_eq!(months_later[0].verdict, Verdict::New);
        // Past the horizon but within the delete's slack (twice the horizon).
        assert_eq!(dedup.ledger().indexed(), 2, "not deleted yet");
        let mut much_later = [story("newer", &format!("{P3} {P2}"), 1)];
        much_later[0].versioncreated = much_later[0]
            .versioncreated
            .map(|t| t + chrono::Duration::days(70));
        dedup.decide(&mut much_later).await.unwrap();
        assert_eq!(dedup.ledger().indexed(), 2, "the old entry expired");
        // Two articles under 33 keys each, with the maps' spare capacity.
        assert!(dedup.ledger().index_bytes() < 6_000);
    }
}
