//! sink: articles and dead letters into PostgreSQL.
//!
//! Batches are flushed by size or deadline, written with one statement per
//! table, and the batch's Kafka offsets are stored only after the Postgres
//! transaction has committed. Writes are idempotent, so a batch replayed after
//! a crash changes nothing.

mod consume;
mod metrics;
mod rebalance;

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::{kafka, ops, retry, shutdown, telemetry, Config};

pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let metrics_handle = telemetry::init_metrics();
    let readiness = ops::Readiness::new();
    let tracker = TaskTracker::new();

    let pool = wirestream_store::connect_lazy(
        &config.database.url,
        config.database.max_connections,
        config.database.connect_timeout,
    )?;
    kafka::spawn_broker_check(
        &config.kafka,
        readiness.clone(),
        Duration::from_secs(2),
        shutdown.clone(),
        &tracker,
    )?;
    let ping_pool = pool.clone();
    ops::spawn_check(
        "postgres",
        Duration::from_secs(2),
        readiness.clone(),
        shutdown.clone(),
        &tracker,
        move || {
            let pool = ping_pool.clone();
            async move { wirestream_store::ping(&pool).await }
        },
    );

    let listener = ops::bind(config.sink.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "sink ops endpoints listening");
    tracker.spawn(ops::serve(
        listener,
        ops::router(metrics_handle, readiness),
        shutdown.clone(),
    ));

    let migrated = retry::with_backoff(
        "migrate",
        config.sink.retry_initial,
        config.sink.retry_max,
        &shutdown,
        wirestream_store::StoreError::is_transient,
        || wirestream_store::migrate(&pool),
    )
    .await;
    if let Some(result) = migrated {
        result?;
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
