//! The database side of a service's start, shared by the worker and the sink.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirestream_runtime::config::DatabaseConfig;
use wirestream_runtime::ops::{self, Readiness};
use wirestream_runtime::retry::Policy;

use crate::StoreError;

/// Opens the pool (lazily, with the session guards of `config`), keeps the
/// `postgres` readiness check up to date, and waits until the schema is
/// migrated, retrying by `policy` for at most `startup_timeout`: a database
/// that does not answer by then is an error naming it, for the service to
/// exit with. `None` when shutdown came first.
pub async fn open(
    config: &DatabaseConfig,
    startup_timeout: Duration,
    policy: &Policy,
    readiness: &Readiness,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<Option<PgPool>, StoreError> {
    let pool = crate::pool(config)?;
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
    let migrate = policy.run("migrate", shutdown, StoreError::class, || {
        crate::migrate(&pool)
    });
    match tokio::time::timeout(startup_timeout, migrate).await {
        Ok(Some(result)) => result.map(|()| Some(pool)),
        Ok(None) => Ok(None),
        Err(_elapsed) => Err(StoreError::Unreachable {
            url: crate::redact(&config.url),
            waited: startup_timeout,
        }),
    }
}
