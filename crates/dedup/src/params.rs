//! The fingerprint of the dedup parameters that shape the stored index.
//!
//! The index in PostgreSQL holds sketches and LSH keys computed with one set
//! of parameters, and decisions taken with one set of thresholds. Run
//! against an index built with other ones, the worker would silently miss
//! copies (other keys) or decide old and new items by different rules. So
//! the parameters are stored with the index and compared at start-up
//! (`PgLedger::check_parameters`).

use std::collections::BTreeMap;
use std::fmt;

use crate::config::DedupConfig;
use crate::hash;
use crate::ledger::LedgerError;

/// Bumped when the code computes other hashes, sketches or keys from the
/// same parameters (the golden-value tests in `golden.rs` fail first).
const ALGORITHM: u32 = 1;

/// The parameters that change what is stored or how it is compared, by
/// name, each as a stable text. `expire_every`, `expire_interval` (when the
/// delete runs), `allowed_lateness` (how much older state it keeps) and
/// `accept_parameter_change` are left out: they change neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters(BTreeMap<String, String>);

impl Parameters {
    pub fn of(c: &DedupConfig) -> Self {
        let values: [(&str, String); 18] = [
            ("algorithm", ALGORITHM.to_string()),
            ("near", c.near.to_string()),
            ("shingle_words", c.shingle_words.to_string()),
            ("bands", c.bands.to_string()),
            ("rows", c.rows.to_string()),
            ("lead_shingles", c.lead_shingles.to_string()),
            ("sketch_shingles", c.sketch_shingles.to_string()),
            ("sketch_numbers", c.sketch_numbers.to_string()),
            ("jaccard", c.jaccard.to_string()),
            ("containment", c.containment.to_string()),
            (
                "containment_min_shingles",
                c.containment_min_shingles.to_string(),
            ),
            ("number_misses", c.number_misses.to_string()),
            ("number_miss_ratio", c.number_miss_ratio.to_string()),
            ("recent", format!("{:?}", c.recent)),
            ("late_jaccard", c.late_jaccard.to_string()),
            ("short_shingles", c.short_shingles.to_string()),
            ("max_per_key", c.max_per_key.to_string()),
            ("horizon", format!("{:?}", c.horizon)),
        ];
        Parameters(
            values
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    }

    /// Parameters as stored (the JSON object's members).
    pub fn from_map(values: BTreeMap<String, String>) -> Self {
        Parameters(values)
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// A hex digest of every `name=value`, in name order.
    pub fn fingerprint(&self) -> String {
        let text: String = self.0.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        format!("{:016x}", hash::bytes(text.as_bytes()))
    }

    /// What differs from `old`, parameter by parameter, in name order.
    pub fn changes_from(&self, old: &Parameters) -> Vec<ParameterChange> {
        let names: std::collections::BTreeSet<&String> =
            self.0.keys().chain(old.0.keys()).collect();
        names
            .into_iter()
            .filter_map(|name| {
                let (was, now) = (old.0.get(name), self.0.get(name));
                (was != now).then(|| ParameterChange {
                    name: name.clone(),
                    old: was.cloned(),
                    new: now.cloned(),
                })
            })
            .collect()
    }
}

/// One parameter that differs from the stored one (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterChange {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl fmt::Display for ParameterChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        write!(
            f,
            "{}: {} -> {}",
            self.name,
            show(&self.old),
            show(&self.new)
        )
    }
}

/// What the start-up check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterCheck {
    /// No parameters were stored: these are now.
    Recorded,
    /// The stored parameters are these.
    Unchanged,
    /// They differed but the index was empty: the new ones replaced them.
    Replaced(Vec<ParameterChange>),
    /// They differed against a non-empty index and
    /// `accept_parameter_change` let the new ones replace them.
    Accepted(Vec<ParameterChange>),
}

#[derive(Debug, thiserror::Error)]
pub enum ParametersError {
    #[error(
        "the dedup parameters differ from those the stored index of {articles} articles was built with ({}); \
         its sketches and LSH keys would not match new ones. Either restore the old values, or set \
         worker.dedup.accept_parameter_change = true to record the new ones (older index entries keep \
         the old parameters until they expire after the horizon), or empty the dedup tables \
         (docs/dedup.md, \"Changing the parameters\")",
        list(.changes)
    )]
    Changed {
        articles: i64,
        changes: Vec<ParameterChange>,
    },
    #[error("the stored dedup parameters are unreadable: {0}")]
    Unreadable(String),
    #[error(transparent)]
    State(#[from] LedgerError),
}

/// `a: 1 -> 2, b: x -> y`.
pub(crate) fn list(changes: &[ParameterChange]) -> String {
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stored_or_compared_parameters_count() {
        let base = Parameters::of(&DedupConfig::default());
        // Pinned like the golden values: the default fingerprint is stored.
        assert_eq!(base.fingerprint(), DEFAULT_FINGERPRINT);
        let scheduling = DedupConfig {
            expire_every: 1,
            allowed_lateness: std::time::Duration::from_secs(400 * 86_400),
            accept_parameter_change: true,
            ..Default::default()
        };
        assert_eq!(Parameters::of(&scheduling), base);
        let other = Parameters::of(&DedupConfig {
            jaccard: 0.8,
            bands: 16,
            ..Default::default()
        });
        assert_ne!(other.fingerprint(), base.fingerprint());
        assert_eq!(
            list(&other.changes_from(&base)),
            "bands: 32 -> 16, jaccard: 0.7 -> 0.8"
        );
    }

    const DEFAULT_FINGERPRINT: &str = "ed868046c73e1582";
}
