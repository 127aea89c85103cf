//! Logs and metrics setup, done once per process.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global `tracing` subscriber. `RUST_LOG` wins over the config's filter.
pub fn init_tracing(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(config.filter.as_str()));
    let registry = tracing_subscriber::registry().with(filter);
    // Logs go to stderr so that CLI output on stdout stays machine-readable.
    let result = match config.format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // A second init (tests driving several services in one process) is harmless.
    let _ = result;
}

/// Buckets for latencies, in seconds: 1 ms to 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Buckets for the end-to-end latency, in seconds: 5 ms to 30 min. A backlog
/// (a bulk load, a consumer catching up) takes minutes, not the 60 s the
/// other latencies top out at, and p99 must not be clamped to the last bucket.
const END_TO_END_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0,
];
/// Buckets for batch sizes, in items.
const SIZE_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

/// Installs the Prometheus recorder for the `metrics` facade and returns the
/// handle that renders `/metrics`. Idempotent within a process.
pub fn init_metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Full-name matchers win over suffix matchers whatever the order here.
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("wirestream_end_to_end_latency_seconds".into()),
                    END_TO_END_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("_items".into()), SIZE_BUCKETS)
                })
                .expect("bucket lists are not empty");
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed (a test harness): render ours anyway.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The recorder keeps every histogram sample until something folds it into
/// the buckets: a scrape of `/metrics` does, and so does this. Without it a
/// service nobody scrapes (no Prometheus, or Prometheus down) grew by every
/// sample it recorded: the sink, which records each article's end-to-end
/// latency, by about 16 bytes per article (docs/benchmarks.md, step 8).
/// A thread, not a task: the recorder is the process's and lives as long as
/// the process, outliving any one service's runtime or shutdown, and folding
/// samples has nothing to drain on exit.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        // Scrapes still fold the samples; only an unscraped service grows.
        tracing::warn!(%error, "failed to start the metrics upkeep thread");
    }
}
