//! Shutdown: signals become a `CancellationToken`; tasks are drained with a deadline.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Returns a token cancelled on SIGINT or SIGTERM.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested, draining in-flight work");
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM, only SIGINT stops the service");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Closes the tracker and waits for its tasks, at most `grace` after the
/// shutdown token fired. Returns `false` when the deadline cut the drain short.
pub async fn drain(tracker: &TaskTracker, grace: Duration) -> bool {
    tracker.close();
    match tokio::time::timeout(grace, tracker.wait()).await {
        Ok(()) => true,
        Err(_) => {
            tracing::warn!(
                grace_seconds = grace.as_secs_f64(),
                remaining_tasks = tracker.len(),
                "shutdown deadline passed; exiting with work undrained (it will be read again)"
            );
            false
        }
    }
}

/// The `main` of a service: runs `service` on a new runtime with a token
/// cancelled on SIGINT or SIGTERM, and returns the process's exit status.
///
/// A failure (a port in use, a bad config, a dependency that did not answer
/// at start) is printed as one line on stderr, `<name>: <what and where>`,
/// and exits 1. The runtime is given one second to stop: a blocking thread
/// stuck in a librdkafka call must not keep a failed process alive.
pub fn run_service<F, Fut>(name: &str, service: F) -> std::process::ExitCode
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: failed to start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let shutdown = on_signal();
        // Whatever ends the service, its tasks are told to stop.
        let _stop = shutdown.clone().drop_guard();
        service(shutdown).await
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
