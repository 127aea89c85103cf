use std::collections::HashMap;

use wirestream_model::{Article, PubStatus, Verdict};

use crate::config::DedupConfig;
use crate::horizon;
use crate::index::Index;
use crate::ledger::{Claim, Decision, Entry, ItemVersion, Ledger, LedgerError};
use crate::sketch::{fingerprint, Fingerprint};

/// Applies the dedup rules to batches of articles, with state in a [`Ledger`].
pub struct Deduplicator<L> {
    ledger: L,
    config: DedupConfig,
    batches: u32,
}

/// One undecided article of a batch.
struct Draft {
    /// Its place in the batch.
    at: usize,
    decision: Decision,
    story: String,
    /// None for a kill, or when near-copy detection is off.
    fingerprint: Option<Fingerprint>,
}

impl<L: Ledger> Deduplicator<L> {
    pub fn new(ledger: L) -> Self {
        Self::with_config(ledger, DedupConfig::default())
    }

    pub fn with_config(ledger: L, config: DedupConfig) -> Self {
        Deduplicator {
            ledger,
            config,
            batches: 0,
        }
    }

    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    pub fn config(&self) -> &DedupConfig {
        &self.config
    }

    /// Decides every article of the batch, in order, and writes the verdict,
    /// `duplicate_of` and similarity into it.
    ///
    /// Per batch: the recorded decisions, the earlier versions, then (for the
    /// undecided) a near-copy claim on their LSH keys, the exact-hash claim,
    /// the index insert that ends the near-copy claim, and the decisions.
    pub async fn decide(&mut self, batch: &mut [Article]) -> Result<(), LedgerError> {
        if batch.is_empty() {
            return Ok(());
        }
        let items: Vec<ItemVersion> = batch.iter().map(item_version).collect();
        let mut decisions = self.ledger.recorded(&items).await?;
        let pending: Vec<usize> = (0..batch.len())
            .filter(|&i| decisions[i].is_none())
            .collect();
        if !pending.is_empty() {
            let held = self.decide_pending(batch, &items, &pending).await?;
            for (&i, decision) in pending.iter().zip(held) {
                decisions[i] = Some(decision);
            }
        }
        for (article, decision) in batch.iter_mut().zip(decisions) {
            if let Some(decision) = decision {
                article.verdict = decision.verdict;
                article.duplicate_of = decision.duplicate_of;
                article.similarity = decision.similarity;
            }
        }
        self.expire(batch).await
    }

    async fn decide_pending(
        &mut self,
        batch: &[Article],
        items: &[ItemVersion],
        pending: &[usize],
    ) -> Result<Vec<Decision>, LedgerError> {
        let pending_items: Vec<ItemVersion> = pending.iter().map(|&i| items[i].clone()).collect();
        let earlier = self.ledger.earlier_versions(&pending_items).await?;

        // Kills and versions first: they follow the item's story. Within one
        // batch an item may come in several versions: the first one seen
        // defines the story for the later ones.
        let mut story_in_batch: HashMap<(&str, &str), String> = HashMap::new();
        let mut drafts = Vec::with_capacity(pending.len());
        for (slot, &at) in pending.iter().enumerate() {
            let article = &batch[at];
            let key = (article.provider.as_str(), article.uri.as_str());
            let earlier_story = earlier[slot]
                .clone()
                .or_else(|| story_in_batch.get(&key).cloned());
            let story = earlier_story.clone().unwrap_or_else(|| article.uri.clone());
            let verdict = if article.pubstatus == PubStatus::Canceled {
                Verdict::Kill
            } else if earlier_story.is_some() {
                Verdict::Version
            } else {
                Verdict::New // until a claim says otherwise
            };
            let fingerprint = (self.config.near && verdict != Verdict::Kill)
                .then(|| fingerprint(article, &self.config));
            story_in_batch.entry(key).or_insert_with(|| story.clone());
            drafts.push(Draft {
                at,
                decision: Decision {
                    verdict,
                    duplicate_of: other_story(&story, &article.uri),
                    similarity: None,
                },
                story,
                fingerprint,
            });
        }

        self.near_copies(batch, &mut drafts).await?;
        self.exact_copies(batch, &mut drafts).await?;

        // Index every article that has text, copies too: a later copy may
        // match any of them, and points to their story.
        let entries: Vec<(Vec<u64>, Entry)> = drafts
            .iter()
            .filter_map(|draft| {
                let fp = draft
                    .fingerprint
                    .as_ref()
                    .filter(|fp| !fp.keys.is_empty())?;
                let article = &batch[draft.at];
                Some((fp.keys.clone(), entry(article, &draft.story, fp)))
            })
            .collect();
        self.ledger
            .near_insert(&entries, self.config.max_per_key)
            .await?;

        let to_record: Vec<(ItemVersion, Decision)> = drafts
            .iter()
            .map(|d| (items[d.at].clone(), d.decision.clone()))
            .collect();
        self.ledger.record(&to_record).await
    }

    /// Starts the near-copy claim and decides `new` drafts against the
    /// indexed entries and the batch's earlier articles.
    async fn near_copies(
        &mut self,
        batch: &[Article],
        drafts: &mut [Draft],
    ) -> Result<(), LedgerError> {
        let mut keys: Vec<u64> = drafts
            .iter()
            .filter_map(|d| d.fingerprint.as_ref())
            .flat_map(|fp| fp.keys.iter().copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let candidates = self
            .ledger
            .near_candidates(&keys, self.config.max_per_key)
            .await?;
        // The store's candidates and then the batch's own articles, each
        // under its keys: an article matches what came before it.
        let mut index = Index::default();
        for (keys, candidate) in candidates {
            index.insert(&keys, candidate, usize::MAX);
        }
        for draft in drafts.iter_mut() {
            let Some(fp) = draft.fingerprint.as_ref() else {
                continue;
            };
            let article = &batch[draft.at];
            if draft.decision.verdict == Verdict::New && !fp.keys.is_empty() {
                let not_before = horizon::cutoff(horizon::seen_at(article), self.config.horizon);
                let own = (article.provider.as_str(), article.uri.as_str());
                if let Some(found) = index.best(&fp.keys, &fp.sketch, own, not_before, &self.config)
                {
                    draft.story = found.entry.story_uri.clone();
                    draft.decision = Decision {
                        verdict: Verdict::Duplicate,
                        duplicate_of: other_story(&draft.story, &article.uri),
                        similarity: Some(found.similarity),
                    };
                }
            }
            index.insert(
                &fp.keys,
                entry(article, &draft.story, fp),
                self.config.max_per_key,
            );
        }
        Ok(())
    }

    /// The exact-copy claim on content hashes: an item whose hash another
    /// item holds is a duplicate of that item's story, whatever the
    /// near-copy check said.
    async fn exact_copies(
        &mut self,
        batch: &[Article],
        drafts: &mut [Draft],
    ) -> Result<(), LedgerError> {
        let claimed: Vec<usize> = (0..drafts.len())
            .filter(|&d| drafts[d].decision.verdict != Verdict::Kill)
            .collect();
        let claims: Vec<Claim> = claimed
            .iter()
            .map(|&d| {
                let article = &batch[drafts[d].at];
                Claim {
                    content_hash: article.content_hash.clone(),
                    provider: article.provider.clone(),
                    uri: article.uri.clone(),
                    story_uri: drafts[d].story.clone(),
                }
            })
            .collect();
        let owners = self.ledger.claim(&claims).await?;
        for ((&d, claim), owner) in claimed.iter().zip(&claims).zip(owners) {
            let draft = &mut drafts[d];
            let ours = owner.provider == claim.provider && owner.uri == claim.uri;
            if !ours && matches!(draft.decision.verdict, Verdict::New | Verdict::Duplicate) {
                let own_uri = &batch[draft.at].uri;
                draft.story = owner.story_uri.clone();
                draft.decision = Decision {
                    verdict: Verdict::Duplicate,
                    duplicate_of: other_story(&owner.story_uri, own_uri),
                    similarity: Some(1.0),
                };
                if draft.decision.duplicate_of.is_none() {
                    // The owner's story is this very item (a replay that
                    // lost its decision): it is the original.
                    draft.decision = Decision {
                        verdict: Verdict::New,
                        duplicate_of: None,
                        similarity: None,
                    };
                }
            }
        }
        Ok(())
    }

    /// Every `expire_every` batches, drops index entries older than the
    /// horizon, counted back from the oldest article of this batch.
    async fn expire(&mut self, batch: &[Article]) -> Result<(), LedgerError> {
        self.batches = self.batches.wrapping_add(1);
        if !self.config.near
            || self.config.expire_every == 0
            || !self.batches.is_multiple_of(self.config.expire_every)
        {
            return Ok(());
        }
        if let Some(oldest) = batch.iter().map(horizon::seen_at).min() {
            self.ledger
                .expire(horizon::cutoff(oldest, self.config.horizon))
                .await?;
        }
        Ok(())
    }
}

fn entry(article: &Article, story: &str, fp: &Fingerprint) -> Entry {
    Entry {
        provider: article.provider.clone(),
        uri: article.uri.clone(),
        story_uri: story.to_owned(),
        seen_at: horizon::seen_at(article),
        sketch: fp.sketch.clone(),
    }
}

fn item_version(article: &Article) -> ItemVersion {
    ItemVersion {
        provider: article.provider.clone(),
        uri: article.uri.clone(),
        version: article.version,
    }
}

fn other_story(story: &str, uri: &str) -> Option<String> {
    (story != uri).then(|| story.to_owned())
}
