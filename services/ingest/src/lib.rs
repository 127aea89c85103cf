//! ingest: every way wire copy arrives, to the raw topic.
//!
//! An item is acknowledged to its sender (HTTP `202`) only after the broker
//! has acknowledged the write, so an accepted item is never lost.

mod api;
mod metrics;
mod publisher;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::{kafka, ops, shutdown, telemetry, Config};

pub use publisher::{PublishError, Publisher};

/// Runs the service until `shutdown` fires, then drains in-flight requests.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let metrics_handle = telemetry::init_metrics();
    let readiness = ops::Readiness::new();
    let tracker = TaskTracker::new();

    let publisher = Publisher::new(&config.kafka, &config.ingest)?;
    kafka::spawn_broker_check(
        &config.kafka,
        readiness.clone(),
        std::time::Duration::from_secs(2),
        shutdown.clone(),
        &tracker,
    )?;

    let state = api::ApiState::new(publisher.clone(), readiness.clone(), &config);
    let router = api::router(state, config.ingest.max_body_bytes)
        .merge(ops::router(metrics_handle, readiness));
    let listener = ops::bind(config.ingest.listen).await?;
    let addr = listener.local_addr().context("failed to read the bound address")?;
    tracing::info!(%addr, topic = %config.kafka.raw_topic, "ingest listening");

    // Requests in flight finish (their items are acknowledged or refused)
    // before the server task ends.
    tracker.spawn(ops::serve(listener, router, shutdown.clone()));
    shutdown.cancelled().await;
    let drained = shutdown::drain(&tracker, config.shutdown.grace).await;
    publisher.flush(config.shutdown.grace);
    tracing::info!(drained, "ingest stopped");
    Ok(())
}
