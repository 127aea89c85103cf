//! Dedup state in Postgres, shared by every worker replica.
//!
//! Nine round trips per batch, whatever its size: the lookup of recorded
//! decisions, earlier versions and content hashes held; `BEGIN`; a shared
//! lock on the index (it waits only for expiry's delete, never for another
//! worker); the candidate fetch, with each LSH key's highest slot; the
//! hash claim; the sketches' insert; a savepoint; one statement inserting
//! bands and decisions that also checks the claim; and `COMMIT`. Two more only in rare races (a hash
//! or decision written by another worker after the statement's snapshot was
//! taken).
//!
//! Near copies are claimed optimistically (docs/dedup.md, "Workers side by
//! side"): no lock is held between workers. The commit writes each new
//! entry under a key at the slot after the highest one the candidate fetch
//! saw. If another claim indexed under that key in the meantime, the slot
//! is taken (committed: the row is there; still open: the primary key makes
//! the insert wait for it and then refuses it), or the key's highest slot
//! has moved; either way the claim is refused. It rolls back to the
//! savepoint taken before that statement (at once, so that claims waiting
//! on its rows go on) and stays open: `refetch` fetches the candidates
//! anew, now seeing the other's entries, and if the batch's decisions do
//! not change the same rows go in at the new slots.
//! If they do change, the batch is decided again from the start. Two
//! claims that indexed under one key cannot both commit without one having
//! seen the other, which is what the advisory locks on key stripes ensured
//! before, at the cost of making one worker wait for the other's whole
//! claim.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row as _, Transaction};
use wirestream_dedup::{
    Claim, Decision, DedupConfig, ItemVersion, Keyed, Known, Ledger, LedgerError, Owner,
    ParameterCheck, Parameters, ParametersError, Record,
};
use wirestream_model::Verdict;

mod expiry;
mod fetch;

pub use expiry::{Expired, EXPIRE_ROWS};
use fetch::{fetch_candidates, Fetch};

/// A [`Ledger`] on the `dedup_decisions`, `dedup_hashes`, `dedup_sketches`
/// and `dedup_bands` tables.
pub struct PgLedger {
    pool: PgPool,
    /// The open claim: a transaction from `near_candidates` to `commit`,
    /// holding the shared index lock. The hash claim and the inserts run in
    /// it too.
    claim: Option<Transaction<'static, Postgres>>,
    /// The batch's LSH keys and the highest slot under each (0: none) as
    /// the candidate fetch saw them: the commit checks them.
    tops: (Vec<i64>, Vec<i32>),
    /// Statements sent to Postgres (each one round trip), for tests and
    /// docs/dedup.md.
    round_trips: u64,
    /// Claims refused at commit because another claim had indexed under
    /// their keys since their candidate fetch.
    races: u64,
    /// Time claims lost to others: waiting on the index lock; from a
    /// refusal to the commit of a claim kept; and from the candidate fetch
    /// on for a claim given up (its work is done again). The worker's
    /// `wirestream_worker_lock_wait_seconds`.
    waited: std::time::Duration,
    /// When the open claim's candidate fetch started.
    fetched_at: Option<std::time::Instant>,
    /// What the open claim fetched under, for [`Ledger::refetch`].
    fetched: Option<Fetch>,
    /// When the last claim was refused, until it is kept (refetched and
    /// committed): a claim refused and then given up makes the next one
    /// take the index lock exclusively.
    refused_at: Option<std::time::Instant>,
    /// The sketches a refused claim inserted, kept while the claim stays
    /// open: its next commit indexes these (the same entries) again.
    kept_sketches: Option<HashSet<(String, String)>>,
}

/// The savepoint before a claim's band rows and decisions: a refused claim
/// rolls back to it at once, so that the claims waiting on its rows (on a
/// slot it took) go on at once, while it keeps its hash claims and checks
/// what raced in.
const SAVEPOINT: &str = "SAVEPOINT refusable";
const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT refusable";

impl PgLedger {
    pub fn new(pool: PgPool) -> Self {
        PgLedger {
            pool,
            claim: None,
            tops: (Vec::new(), Vec::new()),
            round_trips: 0,
            races: 0,
            waited: std::time::Duration::ZERO,
            fetched_at: None,
            fetched: None,
            refused_at: None,
            kept_sketches: None,
        }
    }

    /// Round trips to Postgres so far.
    pub fn round_trips(&self) -> u64 {
        self.round_trips
    }

    /// Claims so far that lost a race at commit and were decided again.
    pub fn races(&self) -> u64 {
        self.races
    }

    /// Time claims have spent waiting for other workers so far (see the
    /// field); the worker reports it per batch.
    pub fn waited(&self) -> std::time::Duration {
        self.waited
    }

    /// The start-up check of the dedup parameters against the ones the
    /// stored index was built with: none stored, or an empty index, records
    /// `config`'s; equal ones pass; different ones against indexed articles
    /// are refused, naming each change, unless
    /// `accept_parameter_change` is set (then recorded, with a warning).
    /// One transaction, the table locked, so that two workers starting at
    /// once agree.
    pub async fn check_parameters(
        &mut self,
        config: &DedupConfig,
    ) -> Result<ParameterCheck, ParametersError> {
        let new = Parameters::of(config);
        let new_json = serde_json::to_string(new.as_map())
            .map_err(|e| ParametersError::Unreadable(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(state_error)?;
        sqlx::query("LOCK TABLE dedup_parameters IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(state_error)?;
        let stored: Option<(String, String)> =
            sqlx::query_as("SELECT fingerprint, parameters::text FROM dedup_parameters")
                .fetch_optional(&mut *tx)
                .await
                .map_err(state_error)?;
        let check = match stored {
            None => ParameterCheck::Recorded,
            Some((fingerprint, _)) if fingerprint == new.fingerprint() => {
                return Ok(ParameterCheck::Unchanged)
            }
            Some((_, json)) => {
                let old = serde_json::from_str(&json)
                    .map(Parameters::from_map)
                    .map_err(|e| ParametersError::Unreadable(e.to_string()))?;
                let changes = new.changes_from(&old);
                let articles: i64 = sqlx::query_scalar("SELECT count(*) FROM dedup_sketches")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(state_error)?;
                if articles == 0 {
                    ParameterCheck::Replaced(changes)
                } else if config.accept_parameter_change {
                    tracing::warn!(
                        articles,
                        changes = %changes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                        "dedup parameters changed against a non-empty index (accepted): \
                         entries indexed before keep the old parameters until they expire"
                    );
                    ParameterCheck::Accepted(changes)
                } else {
                    return Err(ParametersError::Changed { articles, changes });
                }
            }
        };
        sqlx::query(
            "INSERT INTO dedup_parameters (fingerprint, parameters) VALUES ($1, $2::jsonb)
             ON CONFLICT (singleton) DO UPDATE SET
                 previous_fingerprint = dedup_parameters.fingerprint,
                 previous_parameters = dedup_parameters.parameters,
                 fingerprint = EXCLUDED.fingerprint,
                 parameters = EXCLUDED.parameters,
                 recorded_at = now()",
        )
        .bind(new.fingerprint())
        .bind(new_json)
        .execute(&mut *tx)
        .await
        .map_err(state_error)?;
        tx.commit().await.map_err(state_error)?;
        Ok(check)
    }

    /// Inserts the sketches of a claim's new entries, in its transaction;
    /// returns the (provider, uri) of the ones inserted (a replay's are
    /// there already).
    async fn insert_sketches(
        &mut self,
        entries: &[Keyed],
    ) -> Result<std::collections::HashSet<(String, String)>, LedgerError> {
        if entries.is_empty() {
            return Ok(Default::default());
        }
        let providers: Vec<&str> = entries.iter().map(|(_, e)| e.provider.as_str()).collect();
        let uris: Vec<&str> = entries.iter().map(|(_, e)| e.uri.as_str()).collect();
        let stories: Vec<&str> = entries.iter().map(|(_, e)| e.story_uri.as_str()).collect();
        let seen: Vec<DateTime<Utc>> = entries.iter().map(|(_, e)| e.seen_at).collect();
        let sketches: Vec<Vec<u8>> = entries.iter().map(|(_, e)| e.sketch.to_bytes()).collect();
        self.round_trips += 1;
        let tx = self.open_claim()?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "INSERT INTO dedup_sketches (provider, uri, story_uri, seen_at, sketch)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bytea[])
             ON CONFLICT (provider, uri) DO NOTHING
             RETURNING provider, uri",
        )
        .bind(&providers)
        .bind(&uris)
        .bind(&stories)
        .bind(&seen)
        .bind(&sketches)
        .fetch_all(&mut **tx)
        .await
        .map_err(state_error)?;
        Ok(rows.into_iter().collect())
    }

    /// Runs a statement without arguments or rows in the open claim.
    async fn execute_in_claim(&mut self, sql: &'static str) -> Result<(), LedgerError> {
        self.round_trips += 1;
        let tx = self.open_claim()?;
        sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .map_err(state_error)?;
        Ok(())
    }

    fn open_claim(&mut self) -> Result<&mut Transaction<'static, Postgres>, LedgerError> {
        self.claim
            .as_mut()
            .ok_or_else(|| LedgerError("claim or commit without near_candidates".into()))
    }
}

impl Clone for PgLedger {
    /// A clone shares the pool, not an open claim.
    fn clone(&self) -> Self {
        PgLedger::new(self.pool.clone())
    }
}

fn state_error(error: sqlx::Error) -> LedgerError {
    LedgerError(Box::new(error))
}

fn parse_verdict(text: &str) -> Verdict {
    match text {
        "version" => Verdict::Version,
        "duplicate" => Verdict::Duplicate,
        "kill" => Verdict::Kill,
        _ => Verdict::New,
    }
}

fn columns(items: &[ItemVersion]) -> (Vec<&str>, Vec<&str>, Vec<i64>) {
    let providers = items.iter().map(|i| i.provider.as_str()).collect();
    let uris = items.iter().map(|i| i.uri.as_str()).collect();
    let versions = items.iter().map(|i| i.version as i64).collect();
    (providers, uris, versions)
}

/// The first half of the two-part advisory lock keys, so that they cannot
/// collide with other users' single-key locks (sqlx's migrations take one).
const LOCK_NAMESPACE: i32 = 0x5753_4444; // "WSDD"

/// The index lock's second half. Claims take it shared, so they never wait
/// for each other; expiry's delete of band rows takes it exclusive, so that
/// no key's highest slot goes down between a claim's candidate fetch and its
/// commit (a slot freed and filled again would hide an entry from the check).
const INDEX_LOCK: i32 = 0;

/// Reads a recorded decision from columns `at..at + 3` of a row.
fn decision_at(row: &sqlx::postgres::PgRow, at: usize) -> Option<Decision> {
    let verdict: Option<String> = row.get(at);
    verdict.map(|verdict| Decision {
        verdict: parse_verdict(&verdict),
        duplicate_of: row.get(at + 1),
        similarity: row.get(at + 2),
    })
}

impl Ledger for PgLedger {
    async fn lookup(
        &mut self,
        items: &[ItemVersion],
        content_keys: &[String],
        not_before: &[DateTime<Utc>],
    ) -> Result<Vec<Known>, LedgerError> {
        let (providers, uris, versions) = columns(items);
        self.round_trips += 1;
        // Hashes and earlier versions past the item's horizon count as
        // expired, deleted or not (its own decision is kept: a replay).
        let rows = sqlx::query(
            "SELECT i.n, d.verdict, d.duplicate_of, d.similarity, e.story, h.provider, h.uri, h.story_uri
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::timestamptz[])
                 WITH ORDINALITY AS i(provider, uri, version, content_key, not_before, n)
             LEFT JOIN dedup_decisions d USING (provider, uri, version)
             LEFT JOIN dedup_hashes h
                 ON h.content_hash = i.content_key AND (h.provider, h.uri) <> (i.provider, i.uri)
                 AND h.seen_at >= i.not_before
             LEFT JOIN LATERAL (
                 SELECT coalesce(p.duplicate_of, p.uri) AS story
                 FROM dedup_decisions p
                 WHERE p.provider = i.provider AND p.uri = i.uri AND p.version < i.version
                     AND p.seen_at >= i.not_before
                 ORDER BY p.version DESC LIMIT 1
             ) e ON true",
        )
        .bind(&providers)
        .bind(&uris)
        .bind(&versions)
        .bind(content_keys)
        .bind(not_before)
        .fetch_all(&self.pool)
        .await
        .map_err(state_error)?;
        let mut out = vec![Known::default(); items.len()];
        for row in rows {
            let n: i64 = row.get(0);
            let holder: Option<String> = row.get(5);
            out[(n - 1) as usize] = Known {
                decision: decision_at(&row, 1),
                earlier_story: row.get(4),
                copy_of: holder.map(|provider| Owner {
                    provider,
                    uri: row.get(6),
                    story_uri: row.get(7),
                }),
            };
        }
        Ok(out)
    }

    async fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
        not_before: DateTime<Utc>,
    ) -> Result<Vec<Keyed>, LedgerError> {
        // A claim left open by a failed batch rolls back when dropped. One
        // that was refused and given up on counts as time lost to the
        // race, from its fetch on.
        self.claim = None;
        self.tops = (Vec::new(), Vec::new());
        self.kept_sketches = None;
        self.fetched = None;
        let given_up = self.refused_at.take().is_some();
        if let Some(fetched_at) = self.fetched_at.take() {
            if given_up {
                self.waited += fetched_at.elapsed();
            }
        }
        // BEGIN and the lock are two statements: should taking the lock fail
        // (a lost connection, a lock timeout), the transaction is already
        // sqlx's, and dropping it rolls back, so no connection goes back to
        // the pool inside an aborted transaction. The lock comes before the
        // fetch, in a statement of its own, so that the fetch's snapshot is
        // taken after any delete of expired band rows has committed.
        self.round_trips += 1;
        let mut tx = self.pool.begin().await.map_err(state_error)?;
        if keys.is_empty() {
            self.claim = Some(tx);
            return Ok(Vec::new());
        }
        self.round_trips += 1;
        let asked = std::time::Instant::now();
        // A claim decided again after a refusal takes the lock exclusively:
        // it waits for the claims under way, and none starts until it has
        // committed, so it cannot be refused twice. Without this a worker
        // could lose race after race to the others' next batches while many
        // keys fill (boilerplate shared by results tables: measured with
        // scripts/bench-workers.sh, docs/dedup.md).
        let lock = if given_up {
            "SELECT pg_advisory_xact_lock($1::int4, $2::int4)"
        } else {
            "SELECT pg_advisory_xact_lock_shared($1::int4, $2::int4)"
        };
        sqlx::query(lock)
            .bind(LOCK_NAMESPACE)
            .bind(INDEX_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(state_error)?;
        let now = std::time::Instant::now();
        self.waited += now - asked;
        self.fetched_at = Some(now);
        let fetch = Fetch {
            keys: keys.iter().map(|&k| k as i64).collect(),
            max_per_key: max_per_key.min(i64::MAX as usize) as i64,
            not_before,
        };
        self.round_trips += 1;
        let (candidates, tops) = fetch_candidates(&mut tx, &fetch).await?;
        self.claim = Some(tx);
        self.tops = (fetch.keys.clone(), tops);
        self.fetched = Some(fetch);
        Ok(candidates)
    }

    async fn refetch(&mut self) -> Result<Option<Vec<Keyed>>, LedgerError> {
        // Only a refused claim that rolled back to its savepoint is kept.
        if self.kept_sketches.is_none() {
            return Ok(None);
        }
        let Some(fetch) = self.fetched.take() else {
            return Ok(None);
        };
        let Some(tx) = self.claim.as_mut() else {
            return Ok(None);
        };
        // The same fetch, in a new snapshot (read committed): it sees what
        // raced in, and the keys' new highest slots.
        self.round_trips += 1;
        let (candidates, tops) = fetch_candidates(tx, &fetch).await?;
        self.tops = (fetch.keys.clone(), tops);
        self.fetched = Some(fetch);
        Ok(Some(candidates))
    }

    async fn claim(&mut self, claims: &[Claim]) -> Result<Vec<Owner>, LedgerError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<&str> = claims.iter().map(|c| c.content_hash.as_str()).collect();
        let providers: Vec<&str> = claims.iter().map(|c| c.provider.as_str()).collect();
        let uris: Vec<&str> = claims.iter().map(|c| c.uri.as_str()).collect();
        let stories: Vec<&str> = claims.iter().map(|c| c.story_uri.as_str()).collect();
        let seen: Vec<DateTime<Utc>> = claims.iter().map(|c| c.seen_at).collect();
        let not_before: Vec<DateTime<Utc>> = claims.iter().map(|c| c.not_before).collect();
        let tx = self.open_claim()?;
        // Insert and read the owners in one statement. Rows are inserted in
        // hash order (then batch order: within one batch, the earlier item
        // wins the hash), so that two workers' claims, held until their
        // commits, wait on each other in one order and cannot deadlock. An
        // owner seen before the claimant's horizon is expired for it (deleted
        // yet or not): the claim takes the hash over.
        let rows = sqlx::query(
            "WITH c AS (
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
                     WITH ORDINALITY AS c(h, p, u, s, t, nb, n)
             ), first AS (
                 SELECT DISTINCT ON (h) h, p, u, s, t, nb FROM c ORDER BY h, n
             ), inserted AS (
                 INSERT INTO dedup_hashes AS o (content_hash, provider, uri, story_uri, seen_at)
                 SELECT h, p, u, s, t FROM first ORDER BY h
                 ON CONFLICT (content_hash) DO UPDATE SET
                     provider = EXCLUDED.provider, uri = EXCLUDED.uri,
                     story_uri = EXCLUDED.story_uri, seen_at = EXCLUDED.seen_at
                 WHERE o.seen_at < (SELECT f.nb FROM first f WHERE f.h = EXCLUDED.content_hash)
                 RETURNING content_hash, provider, uri, story_uri, seen_at
             )
             SELECT content_hash, provider, uri, story_uri, seen_at, true FROM inserted
             UNION ALL
             SELECT content_hash, provider, uri, story_uri, seen_at, false FROM dedup_hashes
             WHERE content_hash = ANY($1::text[])",
        )
        .bind(&hashes)
        .bind(&providers)
        .bind(&uris)
        .bind(&stories)
        .bind(&seen)
        .bind(&not_before)
        .fetch_all(&mut **tx)
        .await
        .map_err(state_error)?;
        let mut owners: HashMap<String, (Owner, DateTime<Utc>)> = HashMap::new();
        for row in rows {
            let owner = (
                Owner {
                    provider: row.get(1),
                    uri: row.get(2),
                    story_uri: row.get(3),
                },
                row.get(4),
            );
            // A row this claim wrote (inserted or taken over) wins over
            // the one the statement's snapshot still shows.
            if row.get::<bool, _>(5) {
                owners.insert(row.get(0), owner);
            } else {
                owners.entry(row.get(0)).or_insert(owner);
            }
        }
        self.round_trips += 1;
        // A hash another worker committed after this statement's snapshot
        // was taken was neither inserted nor seen: read it again.
        let missing: Vec<&str> = hashes
            .iter()
            .copied()
            .filter(|h| !owners.contains_key(*h))
            .collect();
        if !missing.is_empty() {
            self.round_trips += 1;
            let tx = self.open_claim()?;
            let rows = sqlx::query(
                "SELECT content_hash, provider, uri, story_uri, seen_at FROM dedup_hashes WHERE content_hash = ANY($1::text[])",
            )
            .bind(&missing)
            .fetch_all(&mut **tx)
            .await
            .map_err(state_error)?;
            for row in rows {
                owners.entry(row.get(0)).or_insert_with(|| {
                    let owner = Owner {
                        provider: row.get(1),
                        uri: row.get(2),
                        story_uri: row.get(3),
                    };
                    (owner, row.get(4))
                });
            }
        }
        // The statement applied each hash's first claim of the batch. The
        // later ones follow in order, as in the memory ledger: one whose
        // horizon the owner has passed takes the hash over.
        let mut first = std::collections::HashSet::new();
        let mut taken_over: Vec<&Claim> = Vec::new();
        let mut answers = Vec::with_capacity(claims.len());
        for claim in claims {
            let Some((owner, seen_at)) = owners.get_mut(&claim.content_hash) else {
                return Err(LedgerError(
                    format!("hash {} vanished after its claim", claim.content_hash).into(),
                ));
            };
            if !first.insert(claim.content_hash.as_str()) && *seen_at < claim.not_before {
                *owner = Owner {
                    provider: claim.provider.clone(),
                    uri: claim.uri.clone(),
                    story_uri: claim.story_uri.clone(),
                };
                *seen_at = claim.seen_at;
                taken_over.push(claim);
            }
            answers.push(owner.clone());
        }
        if !taken_over.is_empty() {
            // Rare: a batch holding copies on both sides of the owner's
            // horizon. The rows are locked by the claim statement already.
            self.round_trips += 1;
            let last: HashMap<&str, &Claim> = taken_over
                .iter()
                .map(|c| (c.content_hash.as_str(), *c))
                .collect();
            let last: Vec<&Claim> = last.into_values().collect();
            let tx = self.open_claim()?;
            sqlx::query(
                "UPDATE dedup_hashes o SET provider = n.p, uri = n.u, story_uri = n.s, seen_at = n.t
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS n(h, p, u, s, t)
                 WHERE o.content_hash = n.h",
            )
            .bind(last.iter().map(|c| c.content_hash.as_str()).collect::<Vec<_>>())
            .bind(last.iter().map(|c| c.provider.as_str()).collect::<Vec<_>>())
            .bind(last.iter().map(|c| c.uri.as_str()).collect::<Vec<_>>())
            .bind(last.iter().map(|c| c.story_uri.as_str()).collect::<Vec<_>>())
            .bind(last.iter().map(|c| c.seen_at).collect::<Vec<_>>())
            .execute(&mut **tx)
            .await
            .map_err(state_error)?;
        }
        Ok(answers)
    }

    async fn commit(
        &mut self,
        entries: &[Keyed],
        decisions: &[Record],
        max_per_key: usize,
    ) -> Result<Option<Vec<Decision>>, LedgerError> {
        // The sketches first, in a statement of their own: bands go in only
        // under the ones inserted here. Inside the statement below, that
        // test was a semi-join of every band row with the inserted sketches,
        // which the planner (blind to the arrays' sizes) ran as a nested
        // loop: a claim of 500 articles spent 0.7 s comparing 16,500 band
        // rows with 500 sketches (EXPLAIN ANALYZE; docs/benchmarks.md).
        let fresh = match self.kept_sketches.take() {
            Some(kept) => kept,
            None => self.insert_sketches(entries).await?,
        };
        let (mut band_keys, mut band_providers, mut band_uris, mut band_seen) =
            (vec![], vec![], vec![], vec![]);
        for (keys, entry) in entries {
            // An item indexed already (an earlier version) keeps its entry,
            // as in the memory ledger, and no band points to another text.
            if !fresh.contains(&(entry.provider.clone(), entry.uri.clone())) {
                continue;
            }
            for &key in keys {
                band_keys.push(key as i64);
                band_providers.push(entry.provider.as_str());
                band_uris.push(entry.uri.as_str());
                band_seen.push(entry.seen_at);
            }
        }
        let items: Vec<ItemVersion> = decisions.iter().map(|r| r.item.clone()).collect();
        let (d_providers, d_uris, d_versions) = columns(&items);
        let verdicts: Vec<&str> = decisions
            .iter()
            .map(|r| r.decision.verdict.as_str())
            .collect();
        let duplicate_of: Vec<Option<&str>> = decisions
            .iter()
            .map(|r| r.decision.duplicate_of.as_deref())
            .collect();
        let similarity: Vec<Option<f32>> =
            decisions.iter().map(|r| r.decision.similarity).collect();
        let d_seen: Vec<DateTime<Utc>> = decisions.iter().map(|r| r.seen_at).collect();
        let (top_keys, top_slots) = std::mem::take(&mut self.tops);
        // A claim with candidates to fetch again can be kept if refused.
        let refusable = self.fetched.is_some();
        if refusable {
            self.execute_in_claim(SAVEPOINT).await?;
        }
        self.round_trips += 1;
        let tx = self.open_claim()?;
        // One statement for the bands and the decisions. A replay finds its
        // rows there already (DO NOTHING; its sketch was not inserted
        // again, so it has no bands here); a full key takes no more
        // articles. Decisions go in key order (no deadlock between two
        // workers replaying the same items) and the ones inserted come back:
        // any other was decided before, and that decision holds.
        let rows = sqlx::query(
            "WITH tops AS (
                 SELECT * FROM unnest($13::int8[], $14::int4[]) AS t(k, top)
             ), wanted AS (
                 -- Each entry at the slot after the highest one the fetch
                 -- saw (a key it did not fetch: after the highest there
                 -- now), in batch order.
                 SELECT n.k, n.p, n.u, n.t,
                        coalesce(t.top, (SELECT max(slot) FROM dedup_bands b WHERE b.band_key = n.k), 0)
                            + row_number() OVER (PARTITION BY n.k ORDER BY n.i) AS slot
                 FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::timestamptz[])
                     WITH ORDINALITY AS n(k, p, u, t, i)
                 LEFT JOIN tops t ON t.k = n.k
                 WHERE (SELECT count(*) FROM (SELECT 1 FROM dedup_bands b WHERE b.band_key = n.k LIMIT $5) c) < $5
             ), bands AS (
                 -- In key order, so that two claims waiting on each other's
                 -- slots cannot deadlock.
                 INSERT INTO dedup_bands (band_key, slot, provider, uri, seen_at)
                 SELECT k, slot, p, u, t FROM wanted ORDER BY k, slot
                 ON CONFLICT (band_key, slot) DO NOTHING
                 RETURNING 1
             ), decisions AS (
                 INSERT INTO dedup_decisions (provider, uri, version, verdict, duplicate_of, similarity, seen_at)
                 SELECT * FROM UNNEST($6::text[], $7::text[], $8::int8[], $9::text[], $10::text[], $11::real[], $12::timestamptz[])
                     AS d(provider, uri, version, verdict, duplicate_of, similarity, seen_at)
                 ORDER BY provider, uri, version
                 ON CONFLICT (provider, uri, version) DO NOTHING
                 RETURNING provider, uri, version
             ), raced AS (
                 -- The check: slots another claim took, and keys whose
                 -- highest slot moved since the fetch (the statement sees
                 -- what committed before it started, not its own rows).
                 SELECT (SELECT count(*) FROM wanted) - (SELECT count(*) FROM bands)
                     + (SELECT count(*) FROM tops t
                        WHERE coalesce((SELECT max(slot) FROM dedup_bands b WHERE b.band_key = t.k), 0) <> t.top)
                     AS n
             )
             SELECT provider, uri, version, NULL::int8 FROM decisions
             UNION ALL
             SELECT NULL, NULL, NULL, n FROM raced",
        )
        .bind(&band_keys)
        .bind(&band_providers)
        .bind(&band_uris)
        .bind(&band_seen)
        .bind(max_per_key.min(i64::MAX as usize) as i64)
        .bind(&d_providers)
        .bind(&d_uris)
        .bind(&d_versions)
        .bind(&verdicts)
        .bind(&duplicate_of)
        .bind(&similarity)
        .bind(&d_seen)
        .bind(&top_keys)
        .bind(&top_slots)
        .fetch_all(&mut **tx)
        .await
        .map_err(state_error)?;
        let mut raced = 0;
        let mut inserted: std::collections::HashSet<(String, String, i64)> =
            std::collections::HashSet::with_capacity(rows.len());
        for row in rows {
            match row.get::<Option<String>, _>(0) {
                Some(provider) => {
                    inserted.insert((provider, row.get(1), row.get(2)));
                }
                None => raced = row.get::<Option<i64>, _>(3).unwrap_or(0),
            }
        }
        if raced > 0 {
            // Another claim indexed under this batch's keys after its
            // candidate fetch. When every decision went in (the usual
            // case), the claim rolls back to the savepoint and stays open
            // for `refetch`; otherwise another worker decided some of these
            // items too, and nothing of this claim stays (the transaction
            // rolls back when dropped).
            self.races += 1;
            self.refused_at.get_or_insert_with(std::time::Instant::now);
            if refusable && inserted.len() == items.len() {
                self.execute_in_claim(ROLLBACK_TO_SAVEPOINT).await?;
                self.kept_sketches = Some(fresh);
            } else {
                self.claim = None;
            }
            return Ok(None);
        }
        let mut held: Vec<Decision> = decisions.iter().map(|r| r.decision.clone()).collect();
        let lost: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                !inserted.contains(&(i.provider.clone(), i.uri.clone(), i.version as i64))
            })
            .map(|(n, _)| n)
            .collect();
        if !lost.is_empty() {
            // Read back: where another worker (or an earlier run) decided
            // first, its decision holds. Rare: replays and races only.
            let lost_items: Vec<ItemVersion> = lost.iter().map(|&n| items[n].clone()).collect();
            let (providers, uris, versions) = columns(&lost_items);
            self.round_trips += 1;
            let tx = self.open_claim()?;
            let rows = sqlx::query(
                "SELECT i.n, d.verdict, d.duplicate_of, d.similarity
                 FROM UNNEST($1::text[], $2::text[], $3::int8[]) WITH ORDINALITY AS i(provider, uri, version, n)
                 JOIN dedup_decisions d USING (provider, uri, version)",
            )
            .bind(&providers)
            .bind(&uris)
            .bind(&versions)
            .fetch_all(&mut **tx)
            .await
            .map_err(state_error)?;
            for row in rows {
                let n: i64 = row.get(0);
                if let Some(decision) = decision_at(&row, 1) {
                    held[lost[(n - 1) as usize]] = decision;
                }
            }
        }
        let Some(tx) = self.claim.take() else {
            return Err(LedgerError("commit without near_candidates".into()));
        };
        self.round_trips += 1;
        tx.commit().await.map_err(state_error)?;
        // A refused claim kept: its cost is the time from the refusal on.
        if let Some(refused_at) = self.refused_at.take() {
            self.waited += refused_at.elapsed();
        }
        self.fetched_at = None;
        Ok(Some(held))
    }

    async fn expire(&mut self, cutoff: DateTime<Utc>) -> Result<u64, LedgerError> {
        let mut gone = 0;
        loop {
            let round = self.expire_some(cutoff, EXPIRE_ROWS).await?;
            gone += round.sketches;
            if !round.more {
                return Ok(gone);
            }
        }
    }
}
