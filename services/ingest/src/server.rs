//! The HTTP server: accepts connections itself, so that every connection
//! gets a header read timeout (`axum::serve` sets none, and a client that
//! opens a socket and dribbles a header would hold it for good).
//!
//! HTTP/1.1 only: serving HTTP/2 too means sniffing each connection's first
//! bytes, a read that has no timeout of its own.

use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics;

/// Serves `router` on `listener` until `shutdown` fires. Each connection is
/// a task on `tracker`; on shutdown an idle connection is closed at once and
/// one with a request in flight after its answer, so the caller's drain
/// waits for the answers.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors, mostly: the connections
                    // waiting are still served, and the header timeout
                    // frees descriptors soon. Not a reason to stop.
                    metrics::connection_cut("accept_error");
                    tracing::warn!(%error, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Answers go out at once, not after Nagle's delay.
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            metrics::connection_opened();
            let mut connection = std::pin::pin!(connection);
            let outcome = tokio::select! {
                outcome = connection.as_mut() => outcome,
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            metrics::connection_closed();
            if let Err(error) = outcome {
                let reason = if error.is_timeout() {
                    "header_timeout"
                } else if error.is_parse() || error.is_parse_too_large() {
                    "malformed"
                } else {
                    "io"
                };
                metrics::connection_cut(reason);
                tracing::debug!(%error, reason, "connection closed with an error");
            }
        });
    }
}
