//! Dedup state in Postgres, shared by every worker replica.

use std::collections::HashMap;

use sqlx::{PgPool, Row as _};
use wirestream_dedup::{Claim, Decision, ItemVersion, Ledger, LedgerError, Owner};
use wirestream_model::Verdict;

/// A [`Ledger`] on the `dedup_decisions` and `dedup_hashes` tables.
#[derive(Clone)]
pub struct PgLedger {
    pool: PgPool,
}

impl PgLedger {
    pub fn new(pool: PgPool) -> Self {
        PgLedger { pool }
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
    async fn recorded(&mut self, items: &[ItemVersion]) -> Result<Vec<Option<Decision>>, LedgerError> {
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

    async fn earlier_versions(&mut self, items: &[ItemVersion]) -> Result<Vec<Option<String>>, LedgerError> {
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
                    Owner { provider: row.get(1), uri: row.get(2), story_uri: row.get(3) },
                )
            })
            .collect();
        claims
            .iter()
            .map(|claim| {
                owners.get(&claim.content_hash).cloned().ok_or_else(|| {
                    LedgerError(format!("hash {} vanished after its claim", claim.content_hash).into())
                })
            })
            .collect()
    }

    async fn record(&mut self, decisions: &[(ItemVersion, Decision)]) -> Result<Vec<Decision>, LedgerError> {
        if decisions.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<ItemVersion> = decisions.iter().map(|(item, _)| item.clone()).collect();
        let (providers, uris, versions) = columns(&items);
        let verdicts: Vec<&str> = decisions.iter().map(|(_, d)| d.verdict.as_str()).collect();
        let duplicate_of: Vec<Option<&str>> = decisions.iter().map(|(_, d)| d.duplicate_of.as_deref()).collect();
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
}
