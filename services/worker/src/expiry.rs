//! The delete of expired dedup state, off the batch path.
//!
//! Decisions ignore state past each item's horizon whether it was deleted or
//! not (`wirestream_dedup::horizon`), so the delete only frees storage. It
//! ran inside the batch path every `expire_every` batches, and a batch that
//! ran it took as long as deleting a day of the index; now a background task
//! does it every `expire_interval`, in bounded statements
//! (`PgLedger::expire_some`), and the batches never wait for it (but for the
//! few milliseconds of one band delete, under the index lock).

use tokio_util::sync::CancellationToken;
use wirestream_dedup::{horizon, DedupConfig, LedgerError};
use wirestream_store::{PgLedger, EXPIRE_ROWS};

use crate::metrics;

/// Runs until `shutdown`: every `expire_interval`, deletes the state of
/// articles older than the newest decided article time minus the horizon
/// and `allowed_lateness` (the slack for an archive not in time order:
/// `horizon::delete_cutoff`). Every replica runs it; the deletes are
/// idempotent.
pub async fn run(mut ledger: PgLedger, config: DedupConfig, shutdown: CancellationToken) {
    if !config.near || config.expire_interval.is_zero() {
        return;
    }
    let mut tick = tokio::time::interval(config.expire_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = expire(&mut ledger, &config, &shutdown).await {
            // PostgreSQL away: the next tick tries again; nothing is lost.
            tracing::warn!(%error, "failed to delete expired dedup state");
        }
    }
}

/// One pass: bounded rounds until nothing expired is left (or shutdown).
pub async fn expire(
    ledger: &mut PgLedger,
    config: &DedupConfig,
    shutdown: &CancellationToken,
) -> Result<u64, LedgerError> {
    let Some(newest) = ledger.watermark(config.watermark_rank).await? else {
        return Ok(0);
    };
    // The watermark is every worker's (from the decisions in the
    // database), while each worker counts its late items against its own.
    let cutoff = horizon::delete_cutoff(newest, config.horizon, config.allowed_lateness);
    let mut rows = 0;
    loop {
        let round = ledger.expire_some(cutoff, EXPIRE_ROWS).await?;
        metrics::expired(round.rows);
        rows += round.rows;
        if !round.more || shutdown.is_cancelled() {
            return Ok(rows);
        }
    }
}
