//! The database side of a service's start, shared by the worker and the sink.

use std::sync::Mutex;
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
/// migrated (by this service when `config.migrate`, else by whoever runs
/// `wirestream migrate`), retrying by `policy` for at most
/// `startup_timeout`: a database that is not ready by then is an error
/// naming it and the last failure, for the service to exit with. `None`
/// when shutdown came first.
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
    // The last failure is kept for the error at the deadline: "did not
    // answer" alone would hide a refused password or certificate.
    let last = Mutex::new(String::from("no answer yet"));
    let (last_ref, pool_ref) = (&last, &pool);
    let attempt = move || async move {
        let result = if config.migrate {
            crate::migrate(pool_ref).await
        } else {
            crate::check_schema(pool_ref).await
        };
        if let Err(error) = &result {
            *last_ref.lock().unwrap_or_else(|e| e.into_inner()) = crate::redact(&error.to_string());
        }
        result
    };
    let what = if config.migrate {
        "migrate"
    } else {
        "schema check"
    };
    let ready = policy.run(what, shutdown, StoreError::class, attempt);
    match tokio::time::timeout(startup_timeout, ready).await {
        Ok(Some(result)) => result.map(|()| Some(pool)),
        Ok(None) => Ok(None),
        Err(_elapsed) => Err(StoreError::Unreachable {
            url: config.url.to_string(),
            waited: startup_timeout,
            last: last.into_inner().unwrap_or_else(|e| e.into_inner()),
        }),
    }
}

/// What a stage service has once it started.
pub struct Started {
    pub readiness: Readiness,
    pub tracker: TaskTracker,
    /// The retry policy, failing the service's readiness check while a
    /// transient failure lasts longer than `retry.unready_after`.
    pub policy: Policy,
    /// `None` when shutdown came during the start.
    pub pool: Option<PgPool>,
}

/// The start of a stage service (the worker, the sink), in the order that
/// fails fastest: the ops endpoints bind `listen` (a port in use is an error
/// at once), then the broker must answer and the schema be migrated within
/// `startup.timeout`. Every wait gives way to shutdown.
pub async fn start(
    name: &'static str,
    listen: std::net::SocketAddr,
    config: &wirestream_runtime::Config,
    shutdown: &CancellationToken,
) -> anyhow::Result<Started> {
    use wirestream_runtime::kafka;
    let readiness = Readiness::new();
    let tracker = TaskTracker::new();
    let policy = Policy::new(config.retry).reporting_to(readiness.clone(), name);
    let metrics = wirestream_runtime::telemetry::init_metrics();
    ops::start(
        name,
        listen,
        metrics,
        readiness.clone(),
        shutdown.clone(),
        &tracker,
    )
    .await?;
    kafka::spawn_broker_check(
        &config.kafka,
        readiness.clone(),
        Duration::from_secs(2),
        shutdown.clone(),
        &tracker,
    )?;
    let started = |pool| Started {
        readiness: readiness.clone(),
        tracker: tracker.clone(),
        policy: policy.clone(),
        pool,
    };
    tokio::select! {
        _ = shutdown.cancelled() => return Ok(started(None)),
        waited = kafka::wait_for_broker(&config.kafka, config.startup.timeout) => waited?,
    }
    let pool = open(
        &config.database,
        config.startup.timeout,
        &policy,
        &readiness,
        shutdown,
        &tracker,
    )
    .await?;
    Ok(started(pool))
}
