//! The database side of a service's start, shared by the worker and the sink.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::config::DatabaseConfig;
use wirestream_runtime::ops::{self, Readiness};
use wirestream_runtime::retry;

use crate::StoreError;

/// Opens the pool (lazily, so the service starts and reports not ready while
/// PostgreSQL is down), keeps the `postgres` readiness check up to date, and
/// waits until the schema is migrated. `None` when shutdown came first.
pub async fn open(
    config: &DatabaseConfig,
    readiness: &Readiness,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<Option<PgPool>, StoreError> {
    let pool = crate::connect_lazy(&config.url, config.max_connections, config.connect_timeout)?;
    let ping_pool = pool.clone();
    ops::spawn_check(
        "postgres",
        Duration::from_secs(2),
        readiness.clone(),
        shutdown.clone(),
        tracker,
        move || {
            let pool = ping_pool.clone();
            async move { crate::ping(&pool).await }
        },
    );
    // The schema (and the dedup state) must exist before the first batch.
    let migrated = retry::with_backoff(
        "migrate",
        Duration::from_millis(200),
        Duration::from_secs(5),
        shutdown,
        StoreError::is_transient,
        || crate::migrate(&pool),
    )
    .await;
    match migrated {
        Some(result) => result.map(|()| Some(pool)),
        None => Ok(None),
    }
}
