//! Dedup state in Postgres, shared by every worker replica.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row as _, Transaction};
use wirestream_dedup::{Claim, Decision, Entry, ItemVersion, Ledger, LedgerError, Owner, Sketch};
use wirestream_model::Verdict;

/// A [`Ledger`] on the `dedup_decisions`, `dedup_hashes`, `dedup_sketches`
/// and `dedup_bands` tables.
pub struct PgLedger {
    pool: PgPool,
    /// The open near-copy claim: a transaction holding advisory locks on the
    /// batch's LSH keys, from `near_candidates` to `near_insert`.
    claim: Option<Transaction<'static, Postgres>>,
}

impl PgLedger {
    pub fn new(pool: PgPool) -> Self {
        PgLedger { pool, claim: None }
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

impl Ledger for PgLedger {
    async fn recorded(
        &mut self,
        items: &[ItemVersion],
    ) -> Result<Vec<Option<Decision>>, LedgerError> {
        let (providers, uris, versions) = columns(items);
        let rows = sqlx::query(
            "SELECT i.n, d.verdict, d.duplicate_of, d.similarity
             FROM UNNEST($1::text[], $2::text[], $3::int8[]) WITH ORDINALITY AS i(provider, uri, version, n)
             JOIN dedup_decisions d USING (provider, uri, version)",
        )
        .bind(&providers)
        .bind(&uris)
        .bind(&versions)
        .fetch_all(&self.pool)
        .await
        .map_err(state_error)?;
        let mut out = vec![None; items.len()];
        for row in rows {
            let n: i64 = row.get(0);
            let verdict: String = row.get(1);
            out[(n - 1) as usize] = Some(Decision {
                verdict: parse_verdict(&verdict),
                duplicate_of: row.get(2),
                similarity: row.get(3),
            });
        }
        Ok(out)
    }

    async fn earlier_versions(
        &mut self,
        items: &[ItemVersion],
    ) -> Result<Vec<Option<String>>, LedgerError> {
        let (providers, uris, versions) = columns(items);
        let rows = sqlx::query(
            "SELECT i.n, e.story
             FROM UNNEST($1::text[], $2::text[], $3::int8[]) WITH ORDINALITY AS i(provider, uri, version, n)
             CROSS JOIN LATERAL (
                 SELECT coalesce(d.duplicate_of, d.uri) AS story
                 FROM dedup_decisions d
                 WHERE d.provider = i.provider AND d.uri = i.uri AND d.version < i.version
                 ORDER BY d.version DESC LIMIT 1
             ) e",
        )
        .bind(&providers)
        .bind(&uris)
        .bind(&versions)
        .fetch_all(&self.pool)
        .await
        .map_err(state_error)?;
        let mut out = vec![None; items.len()];
        for row in rows {
            let n: i64 = row.get(0);
            out[(n - 1) as usize] = Some(row.get(1));
        }
        Ok(out)
    }

    async fn claim(&mut self, claims: &[Claim]) -> Result<Vec<Owner>, LedgerError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<&str> = claims.iter().map(|c| c.content_hash.as_str()).collect();
        let providers: Vec<&str> = claims.iter().map(|c| c.provider.as_str()).collect();
        let uris: Vec<&str> = claims.iter().map(|c| c.uri.as_str()).collect();
        let stories: Vec<&str> = claims.iter().map(|c| c.story_uri.as_str()).collect();
        // ORDER BY the ordinal: within one batch, the earlier item wins the hash.
        sqlx::query(
            "INSERT INTO dedup_hashes (content_hash, provider, uri, story_uri)
             SELECT h, p, u, s
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(h, p, u, s, n)
             ORDER BY n
             ON CONFLICT (content_hash) DO NOTHING",
        )
        .bind(&hashes)
        .bind(&providers)
        .bind(&uris)
        .bind(&stories)
        .execute(&self.pool)
        .await
        .map_err(state_error)?;
        let rows = sqlx::query(
            "SELECT content_hash, provider, uri, story_uri FROM dedup_hashes WHERE content_hash = ANY($1::text[])",
        )
        .bind(&hashes)
        .fetch_all(&self.pool)
        .await
        .map_err(state_error)?;
        let owners: HashMap<String, Owner> = rows
            .into_iter()
            .map(|row| {
                (
                    row.get(0),
                    Owner {
                        provider: row.get(1),
                        uri: row.get(2),
                        story_uri: row.get(3),
                    },
                )
            })
            .collect();
        claims
            .iter()
            .map(|claim| {
                owners.get(&claim.content_hash).cloned().ok_or_else(|| {
                    LedgerError(
                        format!("hash {} vanished after its claim", claim.content_hash).into(),
                    )
                })
            })
            .collect()
    }

    async fn record(
        &mut self,
        decisions: &[(ItemVersion, Decision)],
    ) -> Result<Vec<Decision>, LedgerError> {
        if decisions.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<ItemVersion> = decisions.iter().map(|(item, _)| item.clone()).collect();
        let (providers, uris, versions) = columns(&items);
        let verdicts: Vec<&str> = decisions.iter().map(|(_, d)| d.verdict.as_str()).collect();
        let duplicate_of: Vec<Option<&str>> = decisions
            .iter()
            .map(|(_, d)| d.duplicate_of.as_deref())
            .collect();
        let similarity: Vec<Option<f32>> = decisions.iter().map(|(_, d)| d.similarity).collect();
        sqlx::query(
            "INSERT INTO dedup_decisions (provider, uri, version, verdict, duplicate_of, similarity)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::real[])
             ON CONFLICT (provider, uri, version) DO NOTHING",
        )
        .bind(&providers)
        .bind(&uris)
        .bind(&versions)
        .bind(&verdicts)
        .bind(&duplicate_of)
        .bind(&similarity)
        .execute(&self.pool)
        .await
        .map_err(state_error)?;
        // Read back: where another worker (or an earlier run) decided first, its decision holds.
        let held = self.recorded(&items).await?;
        held.into_iter()
            .zip(decisions)
            .map(|(held, (_, ours))| Ok(held.unwrap_or_else(|| ours.clone())))
            .collect()
    }

    async fn near_candidates(
        &mut self,
        keys: &[u64],
        max_per_key: usize,
    ) -> Result<Vec<(Vec<u64>, Entry)>, LedgerError> {
        // A claim left open by a failed batch rolls back when dropped.
        self.claim = None;
        let mut tx = self.pool.begin().await.map_err(state_error)?;
        let keys: Vec<i64> = keys.iter().map(|&k| k as i64).collect();
        // Two near copies decided at once by two workers share LSH keys: the
        // second waits here until the first has indexed its article, and
        // then finds it. Keys are locked in one order, so claims cannot
        // deadlock. This is its own statement: a statement's snapshot is
        // taken when it starts, so the read below must come after the wait.
        sqlx::query("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT k FROM unnest($1::int8[]) AS k ORDER BY k) s")
            .bind(&keys)
            .execute(&mut *tx)
            .await
            .map_err(state_error)?;
        let rows = sqlx::query(
            "SELECT s.provider, s.uri, s.story_uri, s.seen_at, s.sketch, array_agg(b.band_key)
             FROM unnest($1::int8[]) AS k(key)
             CROSS JOIN LATERAL (
                 SELECT band_key, provider, uri FROM dedup_bands WHERE band_key = k.key LIMIT $2
             ) b
             JOIN dedup_sketches s USING (provider, uri)
             GROUP BY s.provider, s.uri
             ORDER BY s.seen_at, s.provider, s.uri",
        )
        .bind(&keys)
        .bind(max_per_key.min(i64::MAX as usize) as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(state_error)?;
        self.claim = Some(tx);
        rows.into_iter()
            .map(|row| {
                let sketch: Vec<u8> = row.get(4);
                let keys: Vec<i64> = row.get(5);
                let entry = Entry {
                    provider: row.get(0),
                    uri: row.get(1),
                    story_uri: row.get(2),
                    seen_at: row.get(3),
                    sketch: Sketch::from_bytes(&sketch).map_err(|e| LedgerError(Box::new(e)))?,
                };
                Ok((keys.into_iter().map(|k| k as u64).collect(), entry))
            })
            .collect()
    }

    async fn near_insert(
        &mut self,
        entries: &[(Vec<u64>, Entry)],
        max_per_key: usize,
    ) -> Result<(), LedgerError> {
        let Some(mut tx) = self.claim.take() else {
            return Err(LedgerError("near_insert without near_candidates".into()));
        };
        let providers: Vec<&str> = entries.iter().map(|(_, e)| e.provider.as_str()).collect();
        let uris: Vec<&str> = entries.iter().map(|(_, e)| e.uri.as_str()).collect();
        let stories: Vec<&str> = entries.iter().map(|(_, e)| e.story_uri.as_str()).collect();
        let seen: Vec<DateTime<Utc>> = entries.iter().map(|(_, e)| e.seen_at).collect();
        let sketches: Vec<Vec<u8>> = entries.iter().map(|(_, e)| e.sketch.to_bytes()).collect();
        let (mut band_keys, mut band_providers, mut band_uris, mut band_seen) =
            (vec![], vec![], vec![], vec![]);
        for (keys, entry) in entries {
            for &key in keys {
                band_keys.push(key as i64);
                band_providers.push(entry.provider.as_str());
                band_uris.push(entry.uri.as_str());
                band_seen.push(entry.seen_at);
            }
        }
        // A replay finds its rows there already (DO NOTHING); a full key
        // takes no more articles.
        sqlx::query(
            "WITH sketches AS (
                 INSERT INTO dedup_sketches (provider, uri, story_uri, seen_at, sketch)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bytea[])
                 ON CONFLICT (provider, uri) DO NOTHING
             )
             INSERT INTO dedup_bands (band_key, provider, uri, seen_at)
             SELECT n.k, n.p, n.u, n.t
             FROM UNNEST($6::int8[], $7::text[], $8::text[], $9::timestamptz[]) AS n(k, p, u, t)
             WHERE (SELECT count(*) FROM (SELECT 1 FROM dedup_bands b WHERE b.band_key = n.k LIMIT $10) c) < $10
             ON CONFLICT (band_key, provider, uri) DO NOTHING",
        )
        .bind(&providers)
        .bind(&uris)
        .bind(&stories)
        .bind(&seen)
        .bind(&sketches)
        .bind(&band_keys)
        .bind(&band_providers)
        .bind(&band_uris)
        .bind(&band_seen)
        .bind(max_per_key.min(i64::MAX as usize) as i64)
        .execute(&mut *tx)
        .await
        .map_err(state_error)?;
        tx.commit().await.map_err(state_error)
    }

    async fn expire(&mut self, cutoff: DateTime<Utc>) -> Result<u64, LedgerError> {
        let done = sqlx::query(
            "WITH bands AS (DELETE FROM dedup_bands WHERE seen_at < $1)
             DELETE FROM dedup_sketches WHERE seen_at < $1",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await
        .map_err(state_error)?;
        Ok(done.rows_affected())
    }
}
