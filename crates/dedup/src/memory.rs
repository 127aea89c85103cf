use std::collections::HashMap;

use crate::ledger::{Claim, Decision, ItemVersion, Ledger, LedgerError, Owner};

/// Dedup state in memory, for `wirestream dedup` and for tests.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    decisions: HashMap<ItemVersion, (Decision, String)>,
    /// Per (provider, uri): every recorded version with the story it belongs to.
    versions: HashMap<(String, String), Vec<(u64, String)>>,
    hashes: HashMap<String, Owner>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Ledger for MemoryLedger {
    async fn recorded(&mut self, items: &[ItemVersion]) -> Result<Vec<Option<Decision>>, LedgerError> {
        Ok(items.iter().map(|item| self.decisions.get(item).map(|(d, _)| d.clone())).collect())
    }

    async fn earlier_versions(&mut self, items: &[ItemVersion]) -> Result<Vec<Option<String>>, LedgerError> {
        Ok(items
            .iter()
            .map(|item| {
                self.versions
                    .get(&(item.provider.clone(), item.uri.clone()))
                    .and_then(|seen| {
                        seen.iter()
                            .filter(|(version, _)| *version < item.version)
                            .max_by_key(|(version, _)| *version)
                            .map(|(_, story)| story.clone())
                    })
            })
            .collect())
    }

    async fn claim(&mut self, claims: &[Claim]) -> Result<Vec<Owner>, LedgerError> {
        Ok(claims
            .iter()
            .map(|claim| {
                self.hashes
                    .entry(claim.content_hash.clone())
                    .or_insert_with(|| Owner {
                        provider: claim.provider.clone(),
                        uri: claim.uri.clone(),
                        story_uri: claim.story_uri.clone(),
                    })
                    .clone()
            })
            .collect())
    }

    async fn record(&mut self, decisions: &[(ItemVersion, Decision)]) -> Result<Vec<Decision>, LedgerError> {
        Ok(decisions
            .iter()
            .map(|(item, decision)| {
                let story = decision.duplicate_of.clone().unwrap_or_else(|| item.uri.clone());
                let (held, story) = self
                    .decisions
                    .entry(item.clone())
                    .or_insert_with(|| (decision.clone(), story))
                    .clone();
                self.versions
                    .entry((item.provider.clone(), item.uri.clone()))
                    .or_default()
                    .push((item.version, story));
                held
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use wirestream_model::{Article, Format, Original, PubStatus, Verdict, ARTICLE_SCHEMA};

    use crate::{Deduplicator, MemoryLedger};

    fn article(uri: &str, version: u64, hash: &str, pubstatus: PubStatus) -> Article {
        Article {
            schema: ARTICLE_SCHEMA,
            provider: "reuters".into(),
            uri: uri.into(),
            version,
            pubstatus,
            verdict: Verdict::New,
            duplicate_of: None,
            similarity: None,
            headline: "H".into(),
            body: "B".into(),
            byline: None,
            dateline: None,
            language: None,
            language_confidence: None,
            language_source: None,
            word_count: 1,
            urgency: None,
            subjects: vec![],
            places: vec![],
            tickers: vec![],
            tags: vec![],
            copyright: None,
            versioncreated: None,
            firstcreated: None,
            embargoed: None,
            warnings: vec![],
            content_hash: hash.into(),
            format: Format::Ninjs,
            source: "test".into(),
            received_at: Utc::now(),
            processed_at: Utc::now(),
            original: Original::Utf8(String::new()),
        }
    }

    fn verdicts(batch: &[Article]) -> Vec<(Verdict, Option<&str>)> {
        batch.iter().map(|a| (a.verdict, a.duplicate_of.as_deref())).collect()
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

        let mut later = vec![article("c", 2, "h3", PubStatus::Canceled), article("d", 1, "h2", PubStatus::Usable)];
        dedup.decide(&mut later).await.unwrap();
        assert_eq!(verdicts(&later), vec![(Verdict::Kill, None), (Verdict::Duplicate, Some("a"))]);
    }

    #[tokio::test]
    async fn a_replay_gets_the_first_decision() {
        let mut dedup = Deduplicator::new(MemoryLedger::new());
        let mut first = vec![article("a", 1, "h1", PubStatus::Usable), article("b", 1, "h1", PubStatus::Usable)];
        dedup.decide(&mut first).await.unwrap();
        // Replayed in the opposite order, the decisions stay as they were.
        let mut replay = vec![article("b", 1, "h1", PubStatus::Usable), article("a", 1, "h1", PubStatus::Usable)];
        dedup.decide(&mut replay).await.unwrap();
        assert_eq!(verdicts(&replay), vec![(Verdict::Duplicate, Some("a")), (Verdict::New, None)]);
    }
}
