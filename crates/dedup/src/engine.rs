use std::collections::HashMap;

use wirestream_model::{Article, PubStatus, Verdict};

use crate::ledger::{Claim, Decision, ItemVersion, Ledger, LedgerError};

/// Applies the dedup rules to batches of articles, with state in a [`Ledger`].
pub struct Deduplicator<L> {
    ledger: L,
}

impl<L: Ledger> Deduplicator<L> {
    pub fn new(ledger: L) -> Self {
        Deduplicator { ledger }
    }

    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// Decides every article of the batch, in order, and writes the verdict,
    /// `duplicate_of` and similarity into it.
    pub async fn decide(&mut self, batch: &mut [Article]) -> Result<(), LedgerError> {
        if batch.is_empty() {
            return Ok(());
        }
        let items: Vec<ItemVersion> = batch.iter().map(item_version).collect();
        let recorded = self.ledger.recorded(&items).await?;
        let pending: Vec<usize> = (0..batch.len()).filter(|&i| recorded[i].is_none()).collect();

        let mut decisions: Vec<Option<Decision>> = recorded;
        if !pending.is_empty() {
            let pending_items: Vec<ItemVersion> = pending.iter().map(|&i| items[i].clone()).collect();
            let earlier = self.ledger.earlier_versions(&pending_items).await?;

            // Within one batch an item may come in several versions: the first
            // one seen defines the story for the later ones.
            let mut story_in_batch: HashMap<(&str, &str), String> = HashMap::new();
            let mut claims = Vec::with_capacity(pending.len());
            let mut draft: Vec<(usize, Decision, String)> = Vec::with_capacity(pending.len());
            for (slot, &i) in pending.iter().enumerate() {
                let article = &batch[i];
                let key = (article.provider.as_str(), article.uri.as_str());
                let earlier_story = earlier[slot].clone().or_else(|| story_in_batch.get(&key).cloned());
                let story = earlier_story.clone().unwrap_or_else(|| article.uri.clone());
                let decision = if article.pubstatus == PubStatus::Canceled {
                    Decision { verdict: Verdict::Kill, duplicate_of: other_story(&story, &article.uri), similarity: None }
                } else if earlier_story.is_some() {
                    Decision { verdict: Verdict::Version, duplicate_of: other_story(&story, &article.uri), similarity: None }
                } else {
                    // Decided by the hash claim below.
                    Decision { verdict: Verdict::New, duplicate_of: None, similarity: None }
                };
                if article.pubstatus != PubStatus::Canceled {
                    claims.push((draft.len(), Claim {
                        content_hash: article.content_hash.clone(),
                        provider: article.provider.clone(),
                        uri: article.uri.clone(),
                        story_uri: story.clone(),
                    }));
                }
                story_in_batch.entry(key).or_insert_with(|| story.clone());
                draft.push((i, decision, story));
            }

            let claim_list: Vec<Claim> = claims.iter().map(|(_, c)| c.clone()).collect();
            let owners = self.ledger.claim(&claim_list).await?;
            for ((slot, claim), owner) in claims.iter().zip(owners) {
                let (_, decision, _) = &mut draft[*slot];
                let ours = owner.provider == claim.provider && owner.uri == claim.uri;
                if decision.verdict == Verdict::New && !ours {
                    *decision = Decision {
                        verdict: Verdict::Duplicate,
                        duplicate_of: Some(owner.story_uri),
                        similarity: Some(1.0),
                    };
                }
            }

            let to_record: Vec<(ItemVersion, Decision)> = draft
                .iter()
                .map(|(i, decision, _)| (items[*i].clone(), decision.clone()))
                .collect();
            let held = self.ledger.record(&to_record).await?;
            for ((i, _, _), decision) in draft.iter().zip(held) {
                decisions[*i] = Some(decision);
            }
        }

        for (article, decision) in batch.iter_mut().zip(decisions) {
            if let Some(decision) = decision {
                article.verdict = decision.verdict;
                article.duplicate_of = decision.duplicate_of;
                article.similarity = decision.similarity;
            }
        }
        Ok(())
    }
}

fn item_version(article: &Article) -> ItemVersion {
    ItemVersion { provider: article.provider.clone(), uri: article.uri.clone(), version: article.version }
}

fn other_story(story: &str, uri: &str) -> Option<String> {
    (story != uri).then(|| story.to_owned())
}
