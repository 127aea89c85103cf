//! worker: raw items in, normalised and deduplicated articles out.
//!
//! For each batch read from the raw topic: decode, check, normalise,
//! deduplicate (state in Postgres, shared by every replica), write the
//! articles and the dead letters, wait for the broker's acknowledgements, and
//! only then store the batch's offsets (the stage framework,
//! `wirestream_runtime::stage`, does the consuming). A crash anywhere before
//! that replays the batch, and the recorded dedup decisions make the replay
//! a no-op. An item that cannot be stored is dead-lettered and the partition
//! moves on; a dependency that is away is waited for.

mod claim_size;
mod consume;
pub mod expiry;
mod metrics;
mod process;

use anyhow::Context as _;
use rdkafka::consumer::Consumer as _;
use tokio_util::sync::CancellationToken;
use wirestream_runtime::batch::BatchRule;
use wirestream_runtime::stage::{Runner, StageMetrics};
use wirestream_runtime::{kafka, shutdown, Config};

pub use process::{process, Processed};

pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    // The dedup crate owns its section: a typo in it stops the start here.
    let dedup_config: wirestream_dedup::DedupConfig = config.worker.dedup.parse("worker.dedup")?;
    let started =
        wirestream_store::service::start("worker", config.worker.listen, &config, &shutdown)
            .await?;
    if let Some(pool) = started.pool {
        // Thresholds changed against an existing index are refused here, with
        // what changed and how to go on (docs/dedup.md, "Changing the parameters").
        wirestream_store::PgLedger::new(pool.clone())
            .check_parameters(&dedup_config)
            .await
            .context("failed to check the dedup parameters against the stored index")?;
        let group = config.worker.group_id.as_str();
        let consumer = kafka::consumer(&config.kafka, group)?;
        consumer
            .subscribe(&[config.kafka.raw_topic.as_str()])
            .context("failed to subscribe to the raw topic")?;
        metrics::register();
        let runner = Runner {
            name: "worker",
            source: consumer,
            batching: BatchRule {
                size: config.worker.batch_size.max(1),
                deadline: config.worker.batch_deadline,
                linger: config.worker.batch_linger,
            },
            metrics: StageMetrics {
                batch_items: "wirestream_worker_batch_items",
                batch_seconds: "wirestream_worker_batch_seconds",
                in_flight: "wirestream_worker_in_flight_items",
            },
            heartbeat: started
                .readiness
                .heartbeat("worker", config.worker.stall_after),
            policy: started.policy,
            // Its own group's lag, and the sink's on what the worker writes.
            lag: Some(
                kafka::LagReporter::new(&config.kafka, group, &[config.kafka.raw_topic.as_str()])?
                    .and(
                        &config.kafka,
                        &config.sink.group_id,
                        &[
                            config.kafka.articles_topic.as_str(),
                            config.kafka.dead_letter_topic.as_str(),
                        ],
                    )?,
            ),
        };
        // The delete of expired state runs beside the batches, not in them.
        started.tracker.spawn(expiry::run(
            wirestream_store::PgLedger::new(pool.clone()),
            dedup_config.clone(),
            shutdown.clone(),
        ));
        let batch_dedup = wirestream_dedup::DedupConfig {
            expire_every: 0,
            ..dedup_config
        };
        let worker = consume::Worker::new(&config, pool, batch_dedup)?;
        let token = shutdown.clone();
        started.tracker.spawn(async move {
            if let Err(error) = runner.run(worker, token.clone()).await {
                tracing::error!(error = format!("{error:#}"), "worker loop failed");
                token.cancel();
            }
        });
    }

    shutdown.cancelled().await;
    let drained = shutdown::drain(&started.tracker, config.shutdown.grace).await;
    tracing::info!(drained, "worker stopped");
    Ok(())
}

#[cfg(test)]
// figment's `Jail` closures return its large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use std::time::Duration;

    use wirestream_dedup::DedupConfig;
    use wirestream_runtime::Config;

    /// `make bench` sets it this way (scripts/bench.sh, `service_env`).
    #[test]
    fn the_allowed_lateness_comes_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).expect("loads");
            let dedup: DedupConfig = config.worker.dedup.parse("worker.dedup").expect("parses");
            assert_eq!(dedup.allowed_lateness, dedup.horizon, "the default");
            jail.set_env("WIRESTREAM_WORKER__DEDUP__ALLOWED_LATENESS", "400d");
            let config = Config::load(None).expect("loads");
            let dedup: DedupConfig = config.worker.dedup.parse("worker.dedup").expect("parses");
            assert_eq!(dedup.allowed_lateness, Duration::from_secs(400 * 86_400));
            Ok(())
        });
    }
}
