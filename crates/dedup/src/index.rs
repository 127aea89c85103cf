//! An in-memory near-copy index: entries under their LSH keys. The memory
//! ledger keeps one for good; the deduplicator builds one per batch from
//! the candidates a ledger returns plus the batch's own articles.

use std::collections::hash_map::Entry as MapEntry;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use crate::config::DedupConfig;
use crate::ledger::{Entry, Keyed};
use crate::sketch::Sketch;
use crate::{hash, horizon, verify};

/// An indexed entry and the keys it is listed under; `None` once expired.
type Slot = Option<(Arc<Entry>, Box<[u64]>)>;

#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Shared with the batch that indexed them and with the ledger's
    /// callers: a candidate is handed out without copying its sketch. With
    /// each, the keys it is listed under (to rebuild the lists on expiry).
    entries: Vec<Slot>,
    /// Per hash of (provider, uri): its slot, so that an item is indexed
    /// once (a hash, not the strings, so that inserting copies nothing; two
    /// ids with one hash only cost the second that check).
    slots: FxHashMap<u64, u32>,
    /// Per LSH key, its list of slots in `nodes`: one allocation for all
    /// lists instead of one per key (most keys hold one or two articles,
    /// and a batch indexes tens of thousands of keys).
    keys: FxHashMap<u64, List>,
    nodes: Vec<Node>,
    live: usize,
}

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
    len: u32,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    slot: u32,
    next: u32,
}

/// The hash of an item's id, for [`Index::slots`].
fn id_hash(provider: &str, uri: &str) -> u64 {
    hash::combine(
        hash::bytes(provider.as_bytes()),
        hash::bytes(uri.as_bytes()),
    )
}

/// The best near copy found for an article.
pub(crate) struct Match<'a> {
    pub entry: &'a Entry,
    pub similarity: f32,
}

impl Index {
    /// An empty index sized for `entries` entries listed under `keys` keys
    /// in all (the per-batch index knows both: growing it was a tenth of
    /// the cost of deciding a batch).
    pub fn with_capacity(entries: usize, keys: usize) -> Self {
        Index {
            entries: Vec::with_capacity(entries),
            slots: FxHashMap::with_capacity_and_hasher(entries, Default::default()),
            keys: FxHashMap::with_capacity_and_hasher(keys, Default::default()),
            nodes: Vec::with_capacity(keys),
            live: 0,
        }
    }

    /// Adds an entry under `keys`, except under keys already holding
    /// `max_per_key` entries. An item already indexed is left as it is.
    pub fn insert(&mut self, keys: &[u64], entry: Arc<Entry>, max_per_key: usize) {
        let id = id_hash(&entry.provider, &entry.uri);
        if let Some(&slot) = self.slots.get(&id) {
            let same = self.entries[slot as usize]
                .as_ref()
                .is_some_and(|(e, _)| e.provider == entry.provider && e.uri == entry.uri);
            if same {
                return;
            }
        }
        let slot = self.entries.len() as u32;
        let listed: Vec<u64> = keys
            .iter()
            .copied()
            .filter(|key| self.push(*key, slot, max_per_key))
            .collect();
        self.entries.push(Some((entry, listed.into_boxed_slice())));
        self.slots.entry(id).or_insert(slot);
        self.live += 1;
    }

    /// Appends `slot` to the list of `key` unless it is full.
    fn push(&mut self, key: u64, slot: u32, max_per_key: usize) -> bool {
        let node = self.nodes.len() as u32;
        // One probe of the map per key (most keys are new: a lookup then an
        // insert probed twice, and the probes are cache misses).
        match self.keys.entry(key) {
            MapEntry::Occupied(mut occupied) => {
                let list = occupied.get_mut();
                if list.len as usize >= max_per_key {
                    return false;
                }
                self.nodes[list.tail as usize].next = node;
                list.tail = node;
                list.len += 1;
            }
            MapEntry::Vacant(vacant) => {
                vacant.insert(List {
                    head: node,
                    tail: node,
                    len: 1,
                });
            }
        }
        self.nodes.push(Node { slot, next: NONE });
        true
    }

    /// The first `max_per_key` slots listed under `key` of entries seen
    /// from `not_before` on: entries past the horizon but not deleted yet
    /// take no place, so what is listed does not depend on when expiry ran.
    fn listed(
        &self,
        key: u64,
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.keys.get(&key).map_or(NONE, |list| list.head);
        std::iter::from_fn(move || {
            let node = self.nodes.get(at as usize)?;
            at = node.next;
            Some(node.slot)
        })
        .filter(move |&slot| self.entry(slot).is_some_and(|e| e.seen_at >= not_before))
        .take(max_per_key)
    }

    fn entry(&self, slot: u32) -> Option<&Arc<Entry>> {
        self.entries[slot as usize].as_ref().map(|(e, _)| e)
    }

    /// The entries under any of `keys`, each once with the keys it was
    /// found under, at most `max_per_key` per key.
    pub fn lookup(
        &self,
        keys: &[u64],
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> Vec<Keyed> {
        let mut found: FxHashMap<u32, Vec<u64>> = FxHashMap::default();
        for &key in keys {
            for slot in self.listed(key, max_per_key, not_before) {
                found.entry(slot).or_default().push(key);
            }
        }
        let mut found: Vec<(u32, Vec<u64>)> = found.into_iter().collect();
        found.sort_unstable_by_key(|(slot, _)| *slot);
        found
            .into_iter()
            .filter_map(|(slot, keys)| Some((keys, Arc::clone(self.entry(slot)?))))
            .collect()
    }

    /// Entries under any of `keys`, each once, in the order indexed.
    fn under(&self, keys: &[u64], max_per_key: usize, not_before: DateTime<Utc>) -> Vec<&Entry> {
        let mut slots: Vec<u32> = keys
            .iter()
            .flat_map(|&key| self.listed(key, max_per_key, not_before))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        slots
            .into_iter()
            .filter_map(|slot| self.entry(slot).map(|e| &**e))
            .collect()
    }

    /// The most similar near copy of `sketch` under `keys`, ignoring the
    /// item itself (a replay after a crash finds its own entry) and entries
    /// older than the horizon before `at`, the article's time. Ties go to the earliest indexed.
    pub fn best(
        &self,
        keys: &[u64],
        sketch: &Sketch,
        own: (&str, &str),
        at: DateTime<Utc>,
        config: &DedupConfig,
    ) -> Option<Match<'_>> {
        let not_before = horizon::cutoff(at, config.horizon);
        let recent = chrono::Duration::from_std(config.recent).unwrap_or(chrono::Duration::MAX);
        let mut best: Option<Match<'_>> = None;
        for entry in self.under(keys, config.max_per_key, not_before) {
            if (entry.provider.as_str(), entry.uri.as_str()) == own {
                continue;
            }
            let late = (at - entry.seen_at).abs() > recent;
            if let Some(similarity) = verify::near_copy(sketch, &entry.sketch, late, config) {
                if best.as_ref().is_none_or(|b| similarity > b.similarity) {
                    best = Some(Match { entry, similarity });
                }
            }
        }
        best
    }

    /// Drops entries seen before `cutoff`; returns how many. The lists are
    /// rebuilt from the live entries, in their order, so memory follows the
    /// horizon.
    pub fn expire(&mut self, cutoff: DateTime<Utc>) -> u64 {
        let before = self.live;
        if !self
            .entries
            .iter()
            .flatten()
            .any(|(e, _)| e.seen_at < cutoff)
        {
            return 0;
        }
        let old = std::mem::take(&mut self.entries);
        self.slots.clear();
        self.keys.clear();
        self.nodes.clear();
        self.live = 0;
        for (entry, keys) in old.into_iter().flatten() {
            if entry.seen_at >= cutoff {
                // Every listed key took it before: no cap applies again.
                self.insert(&keys, entry, usize::MAX);
            }
        }
        self.entries.shrink_to_fit();
        self.nodes.shrink_to_fit();
        (before - self.live) as u64
    }

    pub fn len(&self) -> usize {
        self.live
    }

    /// Approximate heap bytes: per entry the sketch, the three strings, the
    /// entry, its key list and slot; per listed key a node and a map slot.
    pub fn bytes(&self) -> usize {
        let entries: usize = self
            .entries
            .iter()
            .flatten()
            .map(|(e, keys)| {
                e.sketch.heap_bytes()
                    + e.provider.len()
                    + e.uri.len()
                    + e.story_uri.len()
                    + std::mem::size_of::<Entry>()
                    + 16 // the Arc's counts
                    + 8 * keys.len()
            })
            .sum();
        let slots = self.entries.capacity() * std::mem::size_of::<Slot>()
            + self.slots.capacity() * (8 + 4 + 1);
        let lists = self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.keys.capacity() * (8 + std::mem::size_of::<List>() + 1);
        entries + slots + lists
    }
}
