//! worker: raw items in, normalised and deduplicated articles out.
//!
//! For each batch read from the raw topic: decode, normalise, deduplicate
//! (state in Postgres, shared by every replica), write the articles and the
//! dead letters, wait for the broker's acknowledgements, and only then store
//! the batch's offsets. A crash anywhere before that replays the batch, and
//! the recorded dedup decisions make the replay a no-op.

mod consume;
mod metrics;
mod process;

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::{kafka, ops, shutdown, telemetry, Config};

pub use process::{process, Processed};

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
        "worker",
        config.worker.listen,
        metrics_handle,
        readiness.clone(),
        shutdown.clone(),
        &tracker,
    )
    .await?;

    let pool =
        wirestream_store::service::open(&config.database, &readiness, &shutdown, &tracker).await?;
    if let Some(pool) = pool {
        let consumer = consume::Worker::new(&config, pool)?;
        let token = shutdown.clone();
        tracker.spawn(async move {
            if let Err(error) = consumer.run(token.clone()).await {
                tracing::error!(error = format!("{error:#}"), "worker loop failed");
                token.cancel();
            }
        });
    }

    shutdown.cancelled().await;
    let drained = shutdown::drain(&tracker, config.shutdown.grace).await;
    tracing::info!(drained, "worker stopped");
    Ok(())
}
