//! The candidate fetch of a near-copy claim.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row as _, Transaction};
use wirestream_dedup::{Entry, Keyed, LedgerError, Sketch};

use super::state_error;

/// A candidate fetch's arguments.
pub(super) struct Fetch {
    pub(super) keys: Vec<i64>,
    pub(super) max_per_key: i64,
    pub(super) not_before: DateTime<Utc>,
}

/// The candidates under a claim's keys and, in the same snapshot, each
/// key's highest slot (one last row, its provider NULL, with the tops in
/// key order): the commit compares them with what is there then. Entries
/// are taken in slot order, so that a key's first `max_per_key` entries
/// are the candidates, whatever the physical order of the rows.
pub(super) async fn fetch_candidates(
    tx: &mut Transaction<'static, Postgres>,
    fetch: &Fetch,
) -> Result<(Vec<Keyed>, Vec<i32>), LedgerError> {
    let rows = sqlx::query(
        "WITH k AS (
             SELECT key, coalesce((SELECT max(slot) FROM dedup_bands WHERE band_key = key), 0) AS top, n
             FROM unnest($1::int8[]) WITH ORDINALITY AS k(key, n)
         )
         SELECT s.provider, s.uri, s.story_uri, s.seen_at, s.sketch, array_agg(b.band_key)
         FROM k
         CROSS JOIN LATERAL (
             SELECT band_key, provider, uri FROM dedup_bands
             WHERE band_key = k.key AND seen_at >= $3 ORDER BY slot LIMIT $2
         ) b
         JOIN dedup_sketches s USING (provider, uri)
         GROUP BY s.provider, s.uri
         UNION ALL
         SELECT NULL, NULL, NULL, NULL, NULL, array_agg(top::int8 ORDER BY n) FROM k
         ORDER BY 4 NULLS LAST, 1, 2",
    )
    .bind(&fetch.keys)
    .bind(fetch.max_per_key)
    .bind(fetch.not_before)
    .fetch_all(&mut **tx)
    .await
    .map_err(state_error)?;
    let mut candidates = Vec::with_capacity(rows.len());
    let mut tops = Vec::new();
    for row in rows {
        let Some(provider) = row.get::<Option<String>, _>(0) else {
            let slots: Vec<i64> = row.get(5);
            tops = slots.into_iter().map(|t| t as i32).collect();
            continue;
        };
        let sketch: Vec<u8> = row.get(4);
        let listed: Vec<i64> = row.get(5);
        let entry = Entry {
            provider,
            uri: row.get(1),
            story_uri: row.get(2),
            seen_at: row.get(3),
            sketch: Sketch::from_bytes(&sketch).map_err(|e| LedgerError(Box::new(e)))?,
        };
        candidates.push((
            listed.into_iter().map(|k| k as u64).collect(),
            Arc::new(entry),
        ));
    }
    Ok((candidates, tops))
}
