use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use wirestream_model::{Article, PubStatus, Verdict};

use crate::config::DedupConfig;
use crate::horizon;
use crate::index::Index;
use crate::ledger::{
    Claim, Decision, Entry, ItemVersion, Keyed, Known, Ledger, LedgerError, Owner, Record,
};
use crate::sketch::{fingerprint, Fingerprint, Sketch};
use crate::watermark::Watermark;

/// Applies the dedup rules to batches of articles, with state in a [`Ledger`].
pub struct Deduplicator<L> {
    ledger: L,
    config: DedupConfig,
    batches: u32,
    /// The newest article times decided so far (by this instance: in the
    /// worker, this process): expiry's watermark, and what an item is late
    /// against.
    newest: Watermark,
    /// Claims decided again after losing a race at commit.
    races: u64,
    /// Items decided more than `allowed_lateness` behind `newest`.
    late: u64,
}

/// Claims of one batch refused in a row before the batch fails (and the
/// stage retries it later): a bound on a loop that, in practice, runs twice
/// at most.
const MAX_ATTEMPTS: u32 = 100;

/// Times one refused claim is kept in a row (decided again in memory, same
/// decisions, written at the new slots): refused once more after that, the
/// batch is decided again from the start, under the exclusive index lock.
const MAX_REPAIRS: u32 = 3;

/// One undecided article of a batch.
#[derive(Clone)]
struct Draft {
    /// Its place in the batch.
    at: usize,
    decision: Decision,
    story: String,
    /// None for a kill, or when near-copy detection is off.
    fingerprint: Option<Fingerprint>,
    /// Its index entry, built once and shared by the batch's index and the
    /// ledger's.
    entry: Option<Arc<Entry>>,
    /// Another item holds its content hash: the same text, so the same
    /// sketch and keys as an entry already indexed.
    exact_copy: bool,
    /// The lookup found its content hash held by another item: its near
    /// copies are that item's, so its keys are not looked up.
    known_copy: bool,
}

impl<L: Ledger> Deduplicator<L> {
    pub fn new(ledger: L) -> Self {
        Self::with_config(ledger, DedupConfig::default())
    }

    pub fn with_config(ledger: L, config: DedupConfig) -> Self {
        Deduplicator {
            ledger,
            newest: Watermark::new(config.watermark_rank),
            config,
            batches: 0,
            races: 0,
            late: 0,
        }
    }

    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    pub fn config(&self) -> &DedupConfig {
        &self.config
    }

    /// Batches decided again so far because their claim lost a race.
    pub fn races(&self) -> u64 {
        self.races
    }

    /// Items decided so far whose article time was more than
    /// `allowed_lateness` older than the watermark of the articles decided before
    /// them (earlier items of their own batch included): their verdict may
    /// depend on whether the delete of expired state had run. Counted in
    /// item order, so the count itself does not depend on the batching.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Decides every article of the batch, in order, and writes the verdict,
    /// `duplicate_of` and similarity into it.
    ///
    /// Per batch: one lookup (recorded decisions and earlier versions), then
    /// for the undecided a near-copy claim on their LSH keys, the exact-hash
    /// claim, and the commit of index entries and decisions.
    pub async fn decide(&mut self, batch: &mut [Article]) -> Result<(), LedgerError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (late, newest) = self.late_in(batch);
        let items: Vec<ItemVersion> = batch.iter().map(item_version).collect();
        let content_keys: Vec<String> = batch.iter().map(claim_key).collect();
        let not_before: Vec<DateTime<Utc>> = batch.iter().map(|a| self.not_before(a)).collect();
        let known = self
            .ledger
            .lookup(&items, &content_keys, &not_before)
            .await?;
        let mut decisions: Vec<Option<Decision>> =
            known.iter().map(|k| k.decision.clone()).collect();
        let pending: Vec<usize> = (0..batch.len())
            .filter(|&i| decisions[i].is_none())
            .collect();
        if !pending.is_empty() {
            // A claim refused at commit (another worker indexed under its
            // keys after its candidate fetch) wrote nothing: decide the
            // batch again, now seeing that worker's entries. Each refusal
            // means another claim committed, so the retries end.
            let mut attempts = 0u32;
            let held = loop {
                if let Some(held) = self
                    .decide_pending(batch, &items, &known, &content_keys, &pending)
                    .await?
                {
                    break held;
                }
                attempts += 1;
                self.races += 1;
                if attempts >= MAX_ATTEMPTS {
                    return Err(LedgerError(
                        format!("the near-copy claim lost {attempts} races in a row").into(),
                    ));
                }
            };
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
        // Only a batch decided counts: one that failed is decided again.
        self.late += late;
        self.newest = newest;
        self.expire().await
    }

    /// The batch's late items, and the newest article time once it is
    /// decided. An item is late against the items before it in order,
    /// those of its own batch included: decided one at a time, they would
    /// have moved the delete's cut before it.
    fn late_in(&self, batch: &[Article]) -> (u64, Watermark) {
        let mut newest = self.newest.clone();
        let mut late = 0;
        for at in batch.iter().map(horizon::seen_at) {
            let watermark = newest.get();
            if watermark.is_some_and(|n| horizon::is_late(at, n, self.config.allowed_lateness)) {
                late += 1;
            }
            newest.observe(at);
        }
        (late, newest)
    }

    /// An article's time minus the horizon: state older than this is
    /// expired for it.
    fn not_before(&self, article: &Article) -> DateTime<Utc> {
        horizon::cutoff(horizon::seen_at(article), self.config.horizon)
    }

    async fn decide_pending(
        &mut self,
        batch: &[Article],
        items: &[ItemVersion],
        known: &[Known],
        content_keys: &[String],
        pending: &[usize],
    ) -> Result<Option<Vec<Decision>>, LedgerError> {
        // Kills and versions first: they follow the item's story. Within one
        // batch an item may come in several versions: the first one seen
        // defines the story for the later ones.
        let mut story_in_batch: HashMap<(&str, &str), String> = HashMap::new();
        let mut drafts = Vec::with_capacity(pending.len());
        for &at in pending {
            let article = &batch[at];
            let key = (article.provider.as_str(), article.uri.as_str());
            let earlier_story = known[at]
                .earlier_story
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
            let mut draft = Draft {
                at,
                decision: Decision {
                    verdict,
                    duplicate_of: other_story(&story, &article.uri),
                    similarity: None,
                },
                story,
                fingerprint,
                entry: None,
                exact_copy: false,
                known_copy: false,
            };
            // An exact copy of an item decided earlier: decided now, as the
            // hash claim will confirm, so that the batch's later articles
            // that match it follow the right story, and without a search
            // for near copies. In a replayed archive or a burst of re-sends
            // these are most items, and their keys were most of the
            // near-copy lookup, PostgreSQL's costliest statement
            // (docs/benchmarks.md).
            if let Some(owner) = &known[at].copy_of {
                if verdict != Verdict::Kill {
                    draft.known_copy = true;
                    if verdict == Verdict::New {
                        copy_of_owner(&mut draft, owner, &article.uri);
                    }
                }
            }
            drafts.push(draft);
        }

        // The drafts as they are before the near-copy check: should the
        // commit be refused, the batch is decided again from here, in
        // memory, against the candidates as they are then.
        let undecided = drafts.clone();
        let (keys, not_before) = self.near_keys(batch, &drafts);
        let candidates = self
            .ledger
            .near_candidates(&keys, self.config.max_per_key, not_before)
            .await?;
        self.near_copies(batch, &mut drafts, content_keys, candidates);
        let (claimed, claims) = self.claims(batch, &drafts, content_keys);
        let owners = self.ledger.claim(&claims).await?;
        exact_copies(batch, &mut drafts, &claimed, &claims, &owners);
        let (entries, records) = commit_rows(batch, items, &drafts);

        // Refused: another worker indexed under the batch's keys after the
        // fetch (docs/dedup.md, "Workers side by side"). Usually what raced
        // in is unrelated text under a shared boilerplate key, and no
        // decision changes: then the claim is kept, its band rows written at
        // the slots after the new ones. Otherwise, or after too many
        // refusals, the batch is decided again from the start.
        let mut repairs = 0;
        loop {
            if let Some(held) = self
                .ledger
                .commit(&entries, &records, self.config.max_per_key)
                .await?
            {
                return Ok(Some(held));
            }
            repairs += 1;
            if repairs > MAX_REPAIRS {
                return Ok(None);
            }
            let Some(candidates) = self.ledger.refetch().await? else {
                return Ok(None);
            };
            let mut again = undecided.clone();
            self.near_copies(batch, &mut again, content_keys, candidates);
            let (claimed_again, claims_again) = self.claims(batch, &again, content_keys);
            if claimed_again != claimed || claims_again != claims {
                return Ok(None);
            }
            exact_copies(batch, &mut again, &claimed, &claims, &owners);
            let (entries_again, records_again) = commit_rows(batch, items, &again);
            if entries_again != entries || records_again != records {
                return Ok(None);
            }
        }
    }

    /// The LSH keys to fetch candidates under (those of drafts whose copies
    /// are not known already), and the earliest time a candidate may have:
    /// the batch's earliest article time minus the horizon.
    fn near_keys(&self, batch: &[Article], drafts: &[Draft]) -> (Vec<u64>, DateTime<Utc>) {
        let mut keys: Vec<u64> = drafts
            .iter()
            .filter(|d| !d.known_copy)
            .filter_map(|d| d.fingerprint.as_ref())
            .flat_map(|fp| fp.keys.iter().copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let not_before = drafts
            .iter()
            .map(|d| self.not_before(&batch[d.at]))
            .min()
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        (keys, not_before)
    }

    /// Decides `new` drafts against the fetched candidates and the batch's
    /// earlier articles, in memory.
    fn near_copies(
        &self,
        batch: &[Article],
        drafts: &mut [Draft],
        content_keys: &[String],
        candidates: Vec<Keyed>,
    ) {
        // The store's candidates and then the batch's own articles, each
        // under its keys: an article matches what came before it.
        let listed = candidates.iter().map(|(k, _)| k.len()).sum::<usize>()
            + drafts
                .iter()
                .filter_map(|d| d.fingerprint.as_ref())
                .map(|fp| fp.keys.len())
                .sum::<usize>();
        let mut index = Index::with_capacity(candidates.len() + drafts.len(), listed);
        for (keys, candidate) in candidates {
            index.insert(&keys, candidate, usize::MAX);
        }
        // Content keys claimed by the batch's earlier articles.
        let mut claimed_keys: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for draft in drafts.iter_mut() {
            let Some(fp) = draft.fingerprint.as_mut() else {
                continue;
            };
            let article = &batch[draft.at];
            if draft.decision.verdict == Verdict::New && !fp.keys.is_empty() {
                let at = horizon::seen_at(article);
                let own = (article.provider.as_str(), article.uri.as_str());
                // A match whose story is this very article is a copy indexed
                // under it by an earlier attempt at this batch (a replay):
                // the article stays the original.
                let found = index
                    .best(&fp.keys, &fp.sketch, own, at, &self.config)
                    .filter(|found| found.entry.story_uri != article.uri);
                if let Some(found) = found {
                    draft.story = found.entry.story_uri.clone();
                    draft.decision = Decision {
                        verdict: Verdict::Duplicate,
                        duplicate_of: other_story(&draft.story, &article.uri),
                        similarity: Some(found.similarity),
                    };
                }
            }
            // The sketch moves into the entry: nothing reads it from the
            // fingerprint after this (the keys stay for the commit).
            let sketch = std::mem::take(&mut fp.sketch);
            let entry = Arc::new(entry(article, &draft.story, sketch));
            // Exact copies are not kept in the ledger's index (see
            // `commit_rows`), so they stay out of the batch's too: a later
            // article must find the same entries whether the copy came in
            // its batch or in an earlier one.
            let key = content_keys[draft.at].as_str();
            if !draft.known_copy && claimed_keys.insert(key) {
                index.insert(&fp.keys, Arc::clone(&entry), self.config.max_per_key);
            }
            draft.entry = Some(entry);
        }
    }

    /// The exact-copy claims on content hashes, of every draft but kills
    /// (with the drafts they are for).
    fn claims(
        &self,
        batch: &[Article],
        drafts: &[Draft],
        content_keys: &[String],
    ) -> (Vec<usize>, Vec<Claim>) {
        let claimed: Vec<usize> = (0..drafts.len())
            .filter(|&d| drafts[d].decision.verdict != Verdict::Kill)
            .collect();
        let claims: Vec<Claim> = claimed
            .iter()
            .map(|&d| {
                let article = &batch[drafts[d].at];
                Claim {
                    content_hash: content_keys[drafts[d].at].clone(),
                    provider: article.provider.clone(),
                    uri: article.uri.clone(),
                    story_uri: drafts[d].story.clone(),
                    seen_at: horizon::seen_at(article),
                    not_before: self.not_before(article),
                }
            })
            .collect();
        (claimed, claims)
    }

    /// Every `expire_every` batches, deletes the state of articles older than
    /// the newest article time decided so far minus the horizon and the
    /// allowed lateness (`horizon::delete_cutoff`).
    ///
    /// Decisions within the lateness do not depend on it: every lookup
    /// ignores state past the horizon of the item it decides, and the
    /// delete keeps `allowed_lateness` of slack so that an item up to that
    /// much older than the newest one (an archive not in time order) still
    /// finds all it could match, whenever the delete ran. Older items are
    /// counted (`late`).
    async fn expire(&mut self) -> Result<(), LedgerError> {
        self.batches = self.batches.wrapping_add(1);
        if !self.config.near
            || self.config.expire_every == 0
            || !self.batches.is_multiple_of(self.config.expire_every)
        {
            return Ok(());
        }
        if let Some(newest) = self.newest.get() {
            let cut =
                horizon::delete_cutoff(newest, self.config.horizon, self.config.allowed_lateness);
            self.ledger.expire(cut).await?;
        }
        Ok(())
    }
}

/// Applies the exact-copy claim: an item whose hash another item holds is
/// a duplicate of that item's story, whatever the near-copy check said.
fn exact_copies(
    batch: &[Article],
    drafts: &mut [Draft],
    claimed: &[usize],
    claims: &[Claim],
    owners: &[Owner],
) {
    for ((&d, claim), owner) in claimed.iter().zip(claims).zip(owners) {
        let draft = &mut drafts[d];
        let ours = owner.provider == claim.provider && owner.uri == claim.uri;
        draft.exact_copy = !ours;
        if !ours && matches!(draft.decision.verdict, Verdict::New | Verdict::Duplicate) {
            copy_of_owner(draft, owner, &batch[draft.at].uri);
        }
    }
}

/// What the commit writes: the index entries and the decisions.
///
/// Every article that has text is indexed, near copies too: a later copy
/// may match any of them (an update of an update), and points to their
/// story. Exact copies are left out: their text is indexed already, and on
/// wire traffic they are most of the volume (a replayed archive put 33 band
/// rows per re-send into Postgres). The entry's story is the one the exact
/// claim settled.
fn commit_rows(
    batch: &[Article],
    items: &[ItemVersion],
    drafts: &[Draft],
) -> (Vec<Keyed>, Vec<Record>) {
    let entries: Vec<Keyed> = drafts
        .iter()
        .filter(|draft| !draft.exact_copy)
        .filter_map(|draft| {
            let fp = draft
                .fingerprint
                .as_ref()
                .filter(|fp| !fp.keys.is_empty())?;
            let entry = draft.entry.as_ref()?;
            let entry = if entry.story_uri == draft.story {
                Arc::clone(entry)
            } else {
                Arc::new(Entry {
                    story_uri: draft.story.clone(),
                    ..Entry::clone(entry)
                })
            };
            Some((fp.keys.clone(), entry))
        })
        .collect();
    let records: Vec<Record> = drafts
        .iter()
        .map(|d| Record {
            item: items[d.at].clone(),
            decision: d.decision.clone(),
            seen_at: horizon::seen_at(&batch[d.at]),
        })
        .collect();
    (entries, records)
}

/// Makes a draft the exact copy of `owner`'s story.
fn copy_of_owner(draft: &mut Draft, owner: &Owner, own_uri: &str) {
    draft.story = owner.story_uri.clone();
    draft.decision = match other_story(&owner.story_uri, own_uri) {
        Some(story) => Decision {
            verdict: Verdict::Duplicate,
            duplicate_of: Some(story),
            similarity: Some(1.0),
        },
        // The owner's story is this very item (a replay that lost its
        // decision): it is the original.
        None => Decision {
            verdict: Verdict::New,
            duplicate_of: None,
            similarity: None,
        },
    };
}

fn entry(article: &Article, story: &str, sketch: Sketch) -> Entry {
    Entry {
        provider: article.provider.clone(),
        uri: article.uri.clone(),
        story_uri: story.to_owned(),
        seen_at: horizon::seen_at(article),
        sketch,
    }
}

/// The exact-copy key: the content hash, and the tickers when the item
/// names any. Two companies' notices can have the same body word for word
/// ("Qtly div 20 cts vs 20 cts previously / Pay April 15 / Record March
/// 23", Reuters-21578 #3774 QUAKER OATS <OAT> and #5085 UNIBANCORP <UBCP>);
/// the ticker tells them apart. A re-send that drops the ticker is still
/// found, as a near copy of similarity 1.0.
fn claim_key(article: &Article) -> String {
    if article.tickers.is_empty() {
        return article.content_hash.clone();
    }
    let mut tickers: Vec<String> = article
        .tickers
        .iter()
        .map(|t| crate::sketch::ticker_base(t))
        .collect();
    tickers.sort_unstable();
    tickers.dedup();
    format!("{}:{}", article.content_hash, tickers.join(","))
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
