//! Deduplication.
//!
//! For each article the [`Deduplicator`] decides a [`Decision`]:
//!
//! * `kill` when the provider cancelled the item;
//! * `version` when an earlier version of the same provider and id was seen;
//! * `duplicate` when another item already carried the same content (the
//!   matching form's hash, similarity 1.0), or is a verified near copy of it
//!   (MinHash LSH over word shingles finds candidates; Jaccard or containment
//!   of the shingle sets, agreeing numbers, tickers and headline subjects
//!   verify them), pointing to the first article of that story;
//! * `new` otherwise.
//!
//! The state lives behind the [`Ledger`] trait: in Postgres for the worker
//! replicas (shared, and atomic where two workers race), in memory for
//! `wirestream dedup`. The rules are written once, here, for both.
//!
//! Decisions are recorded per (provider, uri, version), and a recorded
//! decision is returned as it is: replaying a topic changes nothing.
//! See docs/dedup.md for the thresholds and their evaluation.

mod config;
mod engine;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
#[cfg(test)]
mod golden;
mod hash;
pub mod horizon;
mod index;
mod ledger;
mod memory;
mod minhash;
mod params;
#[cfg(test)]
mod replay;
mod shingle;
mod sketch;
mod verify;
pub mod watermark;

pub use config::DedupConfig;
pub use engine::Deduplicator;
pub use ledger::{
    Claim, Decision, Entry, ItemVersion, Keyed, Known, Ledger, LedgerError, Owner, Record,
};
pub use memory::MemoryLedger;
pub use params::{ParameterChange, ParameterCheck, Parameters, ParametersError};
pub use sketch::{fingerprint, Fingerprint, Sketch, SketchError};
