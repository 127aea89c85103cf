//! sink: articles and dead letters into PostgreSQL.
//!
//! Batches are flushed by size or deadline, written with one statement per
//! table, and the batch's Kafka offsets are stored only after the Postgres
//! transaction has committed (the stage framework, `wirestream_runtime::stage`,
//! does the consuming). Writes are idempotent, so a batch replayed after a
//! crash changes nothing. A row Postgres refuses for what it holds is
//! isolated and dead-lettered; an outage is waited for.

mod consume;
mod metrics;
mod rebalance;
mod search_flush;

use anyhow::Context as _;
use rdkafka::consumer::Consumer as _;
use tokio_util::sync::CancellationToken;
use wirestream_runtime::batch::BatchRule;
use wirestream_runtime::stage::{Runner, StageMetrics};
use wirestream_runtime::{kafka, shutdown, Config};

use crate::rebalance::RebalanceCounter;

pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let started =
        wirestream_store::service::start("sink", config.sink.listen, &config, &shutdown).await?;
    if let Some(pool) = started.pool {
        search_flush::spawn(
            pool.clone(),
            config.sink.search_index_flush,
            shutdown.clone(),
            &started.tracker,
        );
        let group = config.sink.group_id.as_str();
        let topics = [
            config.kafka.articles_topic.as_str(),
            config.kafka.dead_letter_topic.as_str(),
        ];
        let rebalances = RebalanceCounter::default();
        let consumer = kafka::consumer_with_context(&config.kafka, group, rebalances.clone())?;
        consumer
            .subscribe(&topics)
            .context("failed to subscribe to the articles and dead-letter topics")?;
        let runner = Runner {
            name: "sink",
            source: consumer,
            batching: BatchRule {
                size: config.sink.batch_size.max(1),
                deadline: config.sink.batch_deadline,
                linger: config.sink.batch_linger,
            },
            metrics: StageMetrics {
                batch_items: "wirestream_sink_batch_items",
                batch_seconds: "wirestream_sink_flush_seconds",
                in_flight: "wirestream_sink_in_flight_items",
            },
            heartbeat: started.readiness.heartbeat("sink", config.sink.stall_after),
            policy: started.policy,
            lag: Some(kafka::LagReporter::new(&config.kafka, group, &topics)?),
        };
        let sink = consume::Sink::new(&config, pool, rebalances)?;
        tracing::info!(offsets = ?config.sink.offsets, "sink consuming");
        let token = shutdown.clone();
        started.tracker.spawn(async move {
            if let Err(error) = runner.run(sink, token.clone()).await {
                tracing::error!(error = format!("{error:#}"), "sink loop failed");
                token.cancel();
            }
        });
    }

    shutdown.cancelled().await;
    let drained = shutdown::drain(&started.tracker, config.shutdown.grace).await;
    tracing::info!(drained, "sink stopped");
    Ok(())
}
