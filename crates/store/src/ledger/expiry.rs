//! Expiry's delete of dedup state older than the horizon, in bounded
//! rounds, and the watermark it counts back from.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use wirestream_dedup::LedgerError;

use super::{state_error, PgLedger, INDEX_LOCK, LOCK_NAMESPACE};

/// Rows deleted per statement by [`PgLedger::expire_some`]: small enough
/// that a delete (and the pause of claims behind its exclusive lock) takes
/// milliseconds, large enough to keep up with a busy index.
pub const EXPIRE_ROWS: i64 = 5_000;

/// Times the delete asks for the index lock without waiting (20 ms apart)
/// before it waits for it.
const EXPIRE_LOCK_TRIES: u32 = 50;

/// What one round of [`PgLedger::expire_some`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    /// Index entries (sketches) deleted.
    pub sketches: u64,
    /// Rows deleted from the four tables.
    pub rows: u64,
    /// Some table had more expired rows than the round's limit.
    pub more: bool,
}

impl PgLedger {
    /// Takes the index lock exclusively for a delete of band rows. A waiting
    /// exclusive request queues every new claim behind it, so it first asks
    /// without waiting, between claims, for a while; only then does it wait.
    async fn lock_index(
        &mut self,
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<(), LedgerError> {
        for _ in 0..EXPIRE_LOCK_TRIES {
            self.round_trips += 1;
            let taken: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1::int4, $2::int4)")
                    .bind(LOCK_NAMESPACE)
                    .bind(INDEX_LOCK)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(state_error)?;
            if taken {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.round_trips += 1;
        sqlx::query("SELECT pg_advisory_xact_lock($1::int4, $2::int4)")
            .bind(LOCK_NAMESPACE)
            .bind(INDEX_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(state_error)?;
        Ok(())
    }

    /// The watermark that expiry counts back from: the article time that
    /// `rank` recorded decisions have reached (`wirestream_dedup::watermark`,
    /// `DedupConfig::watermark_rank`); none before that many. An index scan
    /// of `rank` entries of `dedup_decisions_seen_at`.
    pub async fn watermark(&mut self, rank: usize) -> Result<Option<DateTime<Utc>>, LedgerError> {
        self.round_trips += 1;
        sqlx::query_scalar(
            "SELECT seen_at FROM dedup_decisions ORDER BY seen_at DESC OFFSET $1 LIMIT 1",
        )
        .bind(rank.clamp(1, i64::MAX as usize) as i64 - 1)
        .fetch_optional(&self.pool)
        .await
        .map_err(state_error)
    }

    /// Deletes at most `limit` rows of each dedup table older than `cutoff`,
    /// each table in a transaction of its own, so that no delete holds
    /// claims up for long. The band rows go first (a band without its
    /// sketch is skipped by the candidate fetch), under the exclusive index
    /// lock ([`INDEX_LOCK`]).
    pub async fn expire_some(
        &mut self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Expired, LedgerError> {
        let mut round = Expired::default();
        for table in [
            "dedup_bands",
            "dedup_sketches",
            "dedup_hashes",
            "dedup_decisions",
        ] {
            let mut tx = self.pool.begin().await.map_err(state_error)?;
            self.round_trips += 1;
            if table == "dedup_bands" {
                // Nothing expired (most ticks): no lock, so no claim waits.
                self.round_trips += 1;
                let any: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM dedup_bands WHERE seen_at < $1)",
                )
                .bind(cutoff)
                .fetch_one(&mut *tx)
                .await
                .map_err(state_error)?;
                if !any {
                    continue;
                }
                self.lock_index(&mut tx).await?;
            }
            self.round_trips += 2;
            let deleted = sqlx::query(&format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                     SELECT ctid FROM {table} WHERE seen_at < $1 LIMIT $2))"
            ))
            .bind(cutoff)
            .bind(limit)
            .execute(&mut *tx)
            .await
            .map_err(state_error)?
            .rows_affected();
            tx.commit().await.map_err(state_error)?;
            round.rows += deleted;
            round.more |= deleted as i64 >= limit;
            if table == "dedup_sketches" {
                round.sketches = deleted;
            }
        }
        Ok(round)
    }
}
