//! Deduplication.
//!
//! For each article the [`Deduplicator`] decides a [`Decision`]:
//!
//! * `kill` when the provider cancelled the item;
//! * `version` when an earlier version of the same provider and id was seen;
//! * `duplicate` when another item already carried the same content (the
//!   matching form's hash), pointing to the first article of that story;
//! * `new` otherwise.
//!
//! The state lives behind the [`Ledger`] trait: in Postgres for the worker
//! replicas (shared, and atomic where two workers race), in memory for
//! `wirestream dedup`. The rules are written once, here, for both.
//!
//! Decisions are recorded per (provider, uri, version), and a recorded
//! decision is returned as it is: replaying a topic changes nothing.

mod engine;
mod ledger;
mod memory;

pub use engine::Deduplicator;
pub use ledger::{Claim, Decision, ItemVersion, Ledger, LedgerError, Owner};
pub use memory::MemoryLedger;
