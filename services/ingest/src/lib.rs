//! ingest: every way wire copy arrives, to the raw topic.
//!
//! An item is acknowledged to its sender (HTTP `202`) only after the broker
//! has acknowledged the write, so an accepted item is never lost.

mod api;
mod auth;
mod body;
mod feed_state;
mod feeds;
mod metrics;
mod publisher;
mod server;
mod spool;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::{kafka, ops, shutdown, telemetry, Config};

pub use publisher::{PublishError, Publisher};

/// Runs the service until `shutdown` fires, then drains in-flight requests.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.ingest.request_timeout > config.ingest.ack_timeout,
        "ingest.request_timeout ({:?}) must be longer than ingest.ack_timeout ({:?}): \
         a request waits for the broker's acknowledgement",
        config.ingest.request_timeout,
        config.ingest.ack_timeout
    );
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

    // The workers' lag on what ingest writes: still measured while no worker
    // runs, so that the lag alert fires when they are all down.
    kafka::LagReporter::new(
        &config.kafka,
        &config.worker.group_id,
        &[config.kafka.raw_topic.as_str()],
    )?
    .spawn(std::time::Duration::from_secs(5), shutdown.child_token());

    let tokens = auth::Tokens::load(&config.ingest.auth).context("invalid [ingest.auth]")?;
    if tokens.is_enabled() {
        // Names only: tokens never reach the logs.
        tracing::info!(tokens = ?tokens.names(), "the API requires a bearer token");
    }
    let state = api::ApiState::new(publisher.clone(), readiness.clone(), &config);
    spawn_transports(&config, &state, &publisher, &readiness, &shutdown, &tracker)?;
    // /health, /ready and /metrics stay open: probes and scrapers hold no token.
    let limits = api::RequestLimits {
        max_concurrent: config.ingest.max_concurrent_requests,
        timeout: config.ingest.request_timeout,
    };
    let router = api::router(state, tokens, &limits).merge(ops::router(metrics_handle, readiness));
    let listener = ops::bind(config.ingest.listen).await?;
    let addr = listener
        .local_addr()
        .context("failed to read the bound address")?;
    tracing::info!(%addr, topic = %config.kafka.raw_topic, "ingest listening");

    // Requests in flight finish (their items are acknowledged or refused)
    // before the drain below ends: each connection is a task on `tracker`.
    tracker.spawn(server::serve(
        listener,
        router,
        config.ingest.header_read_timeout,
        shutdown.clone(),
        tracker.clone(),
    ));
    shutdown.cancelled().await;
    let drained = shutdown::drain(&tracker, config.shutdown.grace).await;
    publisher.flush(config.shutdown.grace);
    tracing::info!(drained, "ingest stopped");
    Ok(())
}

/// Starts the spool folder and feed pollers configured, as tracked tasks.
fn spawn_transports(
    config: &Config,
    api: &api::ApiState,
    publisher: &Publisher,
    readiness: &ops::Readiness,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<()> {
    let ingest = &config.ingest;
    if let Some(dir) = &ingest.spool.dir {
        let spool = spool::Spool::new(
            &ingest.spool,
            dir.clone(),
            api.limits(),
            ingest.default_provider.clone(),
            publisher.clone(),
            readiness.clone(),
        )?;
        tracker.spawn(spool.run(shutdown.clone()));
    }
    if !ingest.feeds.is_empty() {
        let state_dir = ingest
            .state_dir
            .as_deref()
            .context("[[ingest.feeds]] needs ingest.state_dir")?;
        for feed in &ingest.feeds {
            let poller = feeds::FeedPoller::new(
                feed,
                state_dir,
                api.limits(),
                ingest.default_provider.clone(),
                publisher.clone(),
                readiness.clone(),
            )
            .with_context(|| format!("cannot poll {}", feed.url))?;
            tracker.spawn(poller.run(shutdown.clone()));
        }
    }
    Ok(())
}
