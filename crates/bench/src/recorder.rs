//! A [`Ledger`] that writes down every call it passes on to a memory ledger,
//! so that the dedup state's writes can be replayed into PostgreSQL later
//! without the dedup's own CPU in the timing (`wirestream-bench ceiling`).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use wirestream_dedup::{
    Claim, ItemVersion, Keyed, Known, Ledger, LedgerError, MemoryLedger, Owner, Record,
};

/// One ledger call with its arguments, as the worker would make it.
pub enum Call {
    Lookup(Vec<ItemVersion>, Vec<String>, Vec<DateTime<Utc>>),
    Near(Vec<u64>, usize, DateTime<Utc>),
    Claim(Vec<Claim>),
    Commit(Vec<Keyed>, Vec<Record>, usize),
    Expire(DateTime<Utc>),
}

/// Shares its list of calls with whoever made it: the `Deduplicator` owns
/// the ledger and does not give it back.
#[derive(Default)]
pub struct Recorder {
    inner: MemoryLedger,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Recorder {
    pub fn new(calls: Arc<Mutex<Vec<Call>>>) -> Self {
        Recorder {
            inner: MemoryLedger::default(),
            calls,
        }
    }

    fn push(&self, call: Call) {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(call);
    }
}

impl Call {
    /// Makes this call on `ledger`; the answers are dropped (they are the
    /// memory ledger's already).
    /// A refused claim fails the replay: with one writer it cannot happen,
    /// and a dropped commit would make the ceiling write less than the
    /// pipeline does.
    pub async fn replay<L: Ledger>(&self, ledger: &mut L) -> anyhow::Result<()> {
        match self {
            Call::Lookup(items, keys, not_before) => {
                ledger.lookup(items, keys, not_before).await?;
            }
            Call::Near(keys, max, not_before) => {
                ledger.near_candidates(keys, *max, *not_before).await?;
            }
            Call::Claim(claims) => {
                ledger.claim(claims).await?;
            }
            Call::Commit(entries, records, max) => {
                if ledger.commit(entries, records, *max).await?.is_none() {
                    anyhow::bail!(
                        "the replayed claim was refused: another writer indexed the same keys"
                    );
                }
            }
            Call::Expire(cutoff) => {
                ledger.expire(*cutoff).await?;
            }
        }
        Ok(())
    }
}

impl Ledger for Recorder {
    async fn lookup(
        &mut self,
        items: &[ItemVersion],
        content_keys: &[String],
        not_before: &[DateTime<Utc>],
    ) -> Result<Vec<Known>, LedgerError> {
        self.push(Call::Lookup(
            items.to_vec(),
            content_keys.to_vec(),
            not_before.to_vec(),
        ));
        self.inner.lookup(items, content_keys, not_before).await
    }

    async fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> Result<Vec<Keyed>, LedgerError> {
        self.push(Call::Near(keys.to_vec(), max_per_key, not_before));
        self.inner
            .near_candidates(keys, max_per_key, not_before)
            .await
    }

    async fn claim(&mut self, claims: &[Claim]) -> Result<Vec<Owner>, LedgerError> {
        self.push(Call::Claim(claims.to_vec()));
        self.inner.claim(claims).await
    }

    async fn commit(
        &mut self,
        entries: &[Keyed],
        decisions: &[Record],
        max_per_key: usize,
    ) -> Result<Option<Vec<wirestream_dedup::Decision>>, LedgerError> {
        self.push(Call::Commit(
            entries.to_vec(),
            decisions.to_vec(),
            max_per_key,
        ));
        self.inner.commit(entries, decisions, max_per_key).await
    }

    async fn expire(&mut self, cutoff: DateTime<Utc>) -> Result<u64, LedgerError> {
        self.push(Call::Expire(cutoff));
        self.inner.expire(cutoff).await
    }
}
