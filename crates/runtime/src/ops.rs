//! `/metrics`, `/health` and `/ready`.
//!
//! `/health` says the process is alive: it fails only when a stage has had
//! input waiting and neither finished a batch nor tried again for its
//! `stall_after` (a hung call, which a restart fixes). A dependency that is
//! away does not fail it: the stage keeps retrying, and restarting us would
//! not bring Kafka back. `/ready` says whether the service can do its work
//! right now: every dependency it needs answered its last check, and no
//! transient failure has lasted longer than `retry.unready_after`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The last known state of each dependency (`kafka`, `postgres`).
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Arc<Mutex<BTreeMap<&'static str, Result<(), String>>>>,
    heartbeats: Arc<Mutex<Vec<(&'static str, Heartbeat)>>>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// A heartbeat for `stage`, watched by `/health`.
    pub fn heartbeat(&self, stage: &'static str, stall_after: Duration) -> Heartbeat {
        let heartbeat = Heartbeat::new(stall_after);
        let mut heartbeats = self.heartbeats.lock().unwrap_or_else(|e| e.into_inner());
        heartbeats.push((stage, heartbeat.clone()));
        heartbeat
    }

    /// The first stage that is stuck, with how long it has been.
    pub fn stalled(&self) -> Option<(&'static str, Duration)> {
        let heartbeats = self.heartbeats.lock().unwrap_or_else(|e| e.into_inner());
        heartbeats
            .iter()
            .find_map(|(stage, heartbeat)| heartbeat.stalled().map(|for_| (*stage, for_)))
    }

    /// Records the outcome of a dependency check.
    pub fn set(&self, dependency: &'static str, outcome: Result<(), String>) {
        metrics::gauge!("wirestream_dependency_up", "dependency" => dependency)
            .set(if outcome.is_ok() { 1.0 } else { 0.0 });
        let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        checks.insert(dependency, outcome);
    }

    /// Ready when at least one check ran and none failed.
    pub fn is_ready(&self) -> bool {
        let checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        !checks.is_empty() && checks.values().all(Result::is_ok)
    }

    fn report(&self) -> Report {
        let checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        Report {
            ready: !checks.is_empty() && checks.values().all(Result::is_ok),
            checks: checks
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        v.as_ref().err().cloned().unwrap_or_else(|| "ok".into()),
                    )
                })
                .collect(),
        }
    }
}

/// A stage's progress, for `/health`: the stage calls [`Heartbeat::busy`]
/// when it has input in hand, [`Heartbeat::beat`] whenever it makes progress
/// (a batch done, a try made) and [`Heartbeat::idle`] when it waits for input.
#[derive(Clone)]
pub struct Heartbeat {
    state: Arc<Mutex<Beat>>,
    stall_after: Duration,
}

struct Beat {
    /// Since when input has been waiting, while it is.
    busy_since: Option<Instant>,
    last_beat: Instant,
}

impl Heartbeat {
    pub fn new(stall_after: Duration) -> Self {
        Heartbeat {
            state: Arc::new(Mutex::new(Beat {
                busy_since: None,
                last_beat: Instant::now(),
            })),
            stall_after,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Beat) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn busy(&self) {
        self.with(|beat| {
            beat.busy_since.get_or_insert_with(Instant::now);
        });
    }

    pub fn beat(&self) {
        self.with(|beat| beat.last_beat = Instant::now());
    }

    pub fn idle(&self) {
        self.with(|beat| {
            beat.busy_since = None;
            beat.last_beat = Instant::now();
        });
    }

    /// How long input has waited without progress, once that exceeds `stall_after`.
    pub fn stalled(&self) -> Option<Duration> {
        self.with(|beat| {
            let since = beat.busy_since?.max(beat.last_beat);
            let waited = since.elapsed();
            (waited > self.stall_after).then_some(waited)
        })
    }
}

/// The body of `/ready`: each dependency with `ok` or its last error.
#[derive(serde::Serialize)]
struct Report {
    ready: bool,
    checks: BTreeMap<String, String>,
}

#[derive(Clone)]
struct OpsState {
    metrics: PrometheusHandle,
    readiness: Readiness,
}

/// The ops routes, to be merged into a service's own router or served alone.
pub fn router(metrics: PrometheusHandle, readiness: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(OpsState { metrics, readiness })
}

async fn render_metrics(State(state): State<OpsState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}

async fn health(State(state): State<OpsState>) -> impl IntoResponse {
    match state.readiness.stalled() {
        None => (StatusCode::OK, "ok\n".to_string()),
        Some((stage, waited)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "stalled: the {stage} stage has had input waiting for {}s without progress\n",
                waited.as_secs()
            ),
        ),
    }
}

async fn ready(State(state): State<OpsState>) -> impl IntoResponse {
    let report = state.readiness.report();
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// Binds `addr` and returns the listener, so callers learn the real port
/// (tests bind port 0) before serving.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    use anyhow::Context as _;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("failed to listen on {addr}"))
}

/// Serves `router` until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("failed to serve HTTP")
}

/// Runs `check` every `every` until shutdown and records its outcome as the
/// `dependency` readiness check.
pub fn spawn_check<F, Fut>(
    dependency: &'static str,
    every: std::time::Duration,
    readiness: Readiness,
    shutdown: CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
    check: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    tracker.spawn(async move {
        loop {
            readiness.set(dependency, check().await);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// Serves only `/metrics`, `/health` and `/ready` on `listen` until shutdown,
/// for a service with no API of its own.
pub async fn start(
    service: &str,
    listen: SocketAddr,
    metrics: PrometheusHandle,
    readiness: Readiness,
    shutdown: CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
) -> anyhow::Result<()> {
    let listener = bind(listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "{service} ops endpoints listening");
    tracker.spawn(serve(listener, router(metrics, readiness), shutdown));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_stalled_only_while_input_waits_without_progress() {
        let readiness = Readiness::new();
        let heartbeat = readiness.heartbeat("sink", Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            readiness.stalled(),
            None,
            "idle: nothing to do is not stuck"
        );
        heartbeat.busy();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(readiness.stalled().map(|(stage, _)| stage), Some("sink"));
        heartbeat.beat();
        assert_eq!(readiness.stalled(), None, "a try or a batch is progress");
        heartbeat.idle();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(readiness.stalled(), None);
    }
}
