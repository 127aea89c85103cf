//! sink: articles and dead letters into PostgreSQL.
//!
//! Batches are flushed by size or deadline, written with one statement per
//! table, and the batch's Kafka offsets are stored only after the Postgres
//! transaction has committed. Writes are idempotent, so a batch replayed after
//! a crash changes nothing.

mod consume;
mod metrics;
mod rebalance;
mod search_flush;

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::{kafka, ops, shutdown, telemetry, Config};

pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let metrics_handle = telemetry::init_metrics();
    let readiness = ops::Readiness::new();
    let tracker = TaskTracker::new();

    kafka::spawn_broker_check(
        &config.kafka,
        readiness.clone(),
        Duration::from_secs(2),
        shutdown.clone(),
        &tracker,
    )?;
    ops::start(
        "sink",
        config.sink.listen,
        metrics_handle,
        readiness.clone(),
        shutdown.clone(),
        &tracker,
    )
    .await?;

    let pool =
        wirestream_store::service::open(&config.database, &readiness, &shutdown, &tracker).await?;
    if let Some(pool) = pool {
        search_flush::spawn(
            pool.clone(),
            config.sink.search_index_flush,
            shutdown.clone(),
            &tracker,
        );
        let sink = consume::Sink::new(&config, pool)?;
        let token = shutdown.clone();
        tracker.spawn(async move {
            if let Err(error) = sink.run(token.clone()).await {
                tracing::error!(error = format!("{error:#}"), "sink loop failed");
                token.cancel();
            }
        });
    }

    shutdown.cancelled().await;
    let drained = shutdown::drain(&tracker, config.shutdown.grace).await;
    tracing::info!(drained, "sink stopped");
    Ok(())
}
