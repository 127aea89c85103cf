//! An in-memory near-copy index: entries under their LSH keys. The memory
//! ledger keeps one for good; the deduplicator builds one per batch from
//! the candidates a ledger returns plus the batch's own articles.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::DedupConfig;
use crate::ledger::Entry;
use crate::sketch::Sketch;
use crate::verify;

#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<Option<Entry>>,
    /// Per (provider, uri): its slot, so that an item is indexed once.
    slots: HashMap<(String, String), usize>,
    keys: HashMap<u64, Vec<usize>>,
    live: usize,
}

/// The best near copy found for an article.
pub(crate) struct Match<'a> {
    pub entry: &'a Entry,
    pub similarity: f32,
}

impl Index {
    /// Adds an entry under `keys`, except under keys already holding
    /// `max_per_key` entries. An item already indexed is left as it is.
    pub fn insert(&mut self, keys: &[u64], entry: Entry, max_per_key: usize) {
        let id = (entry.provider.clone(), entry.uri.clone());
        if self.slots.contains_key(&id) {
            return;
        }
        let slot = self.entries.len();
        self.entries.push(Some(entry));
        self.slots.insert(id, slot);
        self.live += 1;
        for key in keys {
            let list = self.keys.entry(*key).or_default();
            if list.len() < max_per_key {
                list.push(slot);
            }
        }
    }

    /// The entries under any of `keys`, each once with the keys it was
    /// found under, at most `max_per_key` per key.
    pub fn lookup(&self, keys: &[u64], max_per_key: usize) -> Vec<(Vec<u64>, &Entry)> {
        let mut found: HashMap<usize, Vec<u64>> = HashMap::new();
        for key in keys {
            for &slot in self.keys.get(key).into_iter().flatten().take(max_per_key) {
                found.entry(slot).or_default().push(*key);
            }
        }
        let mut found: Vec<(usize, Vec<u64>)> = found.into_iter().collect();
        found.sort_unstable_by_key(|(slot, _)| *slot);
        found
            .into_iter()
            .filter_map(|(slot, keys)| Some((keys, self.entries[slot].as_ref()?)))
            .collect()
    }

    /// Entries under any of `keys`, each once, in the order indexed.
    fn under(&self, keys: &[u64], max_per_key: usize) -> Vec<&Entry> {
        let mut slots: Vec<usize> = keys
            .iter()
            .filter_map(|key| self.keys.get(key))
            .flat_map(|list| list.iter().take(max_per_key).copied())
            .collect();
        slots.sort_unstable();
        slots.dedup();
        slots
            .into_iter()
            .filter_map(|slot| self.entries[slot].as_ref())
            .collect()
    }

    /// The most similar near copy of `sketch` under `keys`, ignoring the
    /// item itself (a replay after a crash finds its own entry) and entries
    /// older than `not_before`. Ties go to the earliest indexed.
    pub fn best(
        &self,
        keys: &[u64],
        sketch: &Sketch,
        own: (&str, &str),
        not_before: DateTime<Utc>,
        config: &DedupConfig,
    ) -> Option<Match<'_>> {
        let mut best: Option<Match<'_>> = None;
        for entry in self.under(keys, config.max_per_key) {
            if (entry.provider.as_str(), entry.uri.as_str()) == own || entry.seen_at < not_before {
                continue;
            }
            if let Some(similarity) = verify::near_copy(sketch, &entry.sketch, config) {
                if best.as_ref().is_none_or(|b| similarity > b.similarity) {
                    best = Some(Match { entry, similarity });
                }
            }
        }
        best
    }

    /// Drops entries seen before `cutoff`; returns how many.
    pub fn expire(&mut self, cutoff: DateTime<Utc>) -> u64 {
        let mut dropped = 0;
        for slot in self.entries.iter_mut() {
            if slot.as_ref().is_some_and(|e| e.seen_at < cutoff) {
                if let Some(entry) = slot.take() {
                    self.slots.remove(&(entry.provider, entry.uri));
                    dropped += 1;
                }
            }
        }
        if dropped > 0 {
            let entries = &self.entries;
            self.keys.retain(|_, list| {
                list.retain(|&slot| entries[slot].is_some());
                !list.is_empty()
            });
            self.live -= dropped as usize;
            // Compact when most slots are empty, so memory follows the horizon.
            if self.live * 2 < self.entries.len() {
                self.compact();
            }
        }
        dropped
    }

    fn compact(&mut self) {
        let mut moved = vec![usize::MAX; self.entries.len()];
        let mut kept = Vec::with_capacity(self.live);
        for (old, entry) in std::mem::take(&mut self.entries).into_iter().enumerate() {
            if let Some(entry) = entry {
                moved[old] = kept.len();
                kept.push(Some(entry));
            }
        }
        self.entries = kept;
        for slot in self.slots.values_mut() {
            *slot = moved[*slot];
        }
        for list in self.keys.values_mut() {
            for slot in list.iter_mut() {
                *slot = moved[*slot];
            }
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    /// Approximate heap bytes held per entry, averaged: the sketch, the two
    /// strings (three with the story), the slot maps and the key lists.
    pub fn bytes(&self) -> usize {
        let entries: usize = self
            .entries
            .iter()
            .flatten()
            .map(|e| {
                e.sketch.heap_bytes()
                    + 2 * (e.provider.len() + e.uri.len())
                    + e.story_uri.len()
                    + std::mem::size_of::<Entry>()
            })
            .sum();
        let keys: usize = self
            .keys
            .values()
            .map(|l| 8 + 8 + l.capacity() * 8 + 24)
            .sum();
        entries + keys + self.slots.len() * (48 + 8)
    }
}
