//! `/metrics`, `/health` and `/ready`.
//!
//! `/health` only says the process is alive (a liveness probe must not fail
//! because Kafka is down: restarting us would not fix Kafka). `/ready` says
//! whether the service can do its work right now: every dependency it needs
//! answered its last check.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
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
        .route("/health", get(|| async { "ok\n" }))
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
