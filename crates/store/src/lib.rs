//! Everything wirestream keeps in PostgreSQL. All SQL lives in this crate and
//! every value goes through bound parameters.
//!
//! Writes take whole batches and run one statement per table (`UNNEST` of
//! column arrays), and every write is idempotent, so replaying a topic into
//! them changes nothing.

mod articles;
mod dead_letters;
mod ledger;
mod offsets;
pub mod report;
mod search_index;
pub mod service;

use std::time::Duration;

pub use articles::{write_articles, UPSERT_LATEST};
pub use dead_letters::{
    find_dead_letters, mark_replayed, write_dead_letters, DeadLetterFilter, StoredDeadLetter,
};
pub use ledger::{Expired, PgLedger, EXPIRE_ROWS};
pub use offsets::{load_offsets, OffsetCommit, PartitionOffset};
pub use search_index::flush_search_index;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::PgPool;
use wirestream_runtime::config::{DatabaseConfig, SslMode};
use wirestream_runtime::retry::ErrorClass;
pub use wirestream_runtime::secret::redact;

/// What one [`write_batch`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows of `articles` inserted or replaced (replays and older versions change none).
    pub articles_changed: u64,
    /// Dead letters stored (replays store none).
    pub dead_letters_stored: u64,
}

/// Writes articles and dead letters, and optionally the consumer offsets that
/// cover them, in one transaction: either all of it is committed or none.
pub async fn write_batch(
    pool: &PgPool,
    articles: &[wirestream_model::Article],
    dead_letters: &[(String, wirestream_model::DeadLetter)],
    offsets: Option<OffsetCommit<'_>>,
) -> Result<BatchOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let articles_changed = articles::write_in(&mut tx, articles).await?;
    let dead_letters_stored = dead_letters::write_in(&mut tx, dead_letters).await?;
    if let Some(commit) = &offsets {
        offsets::save_offsets(&mut tx, commit).await?;
    }
    tx.commit().await?;
    Ok(BatchOutcome {
        articles_changed,
        dead_letters_stored,
    })
}

/// The schema migrations, embedded in the binaries.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database configuration: {0}")]
    Config(String),
    #[error("failed to migrate the schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the schema is at migration {found:?}, this build needs {needed}: run `wirestream migrate` as the schema's owner")]
    SchemaBehind { found: Option<i64>, needed: i64 },
    /// `url` is redacted; `last` is the last error seen, naming the cause
    /// (a refused password, an untrusted certificate, …).
    #[error("PostgreSQL at {url} was not ready within {waited:?} of the start: {last}")]
    Unreachable {
        url: String,
        waited: Duration,
        last: String,
    },
}

impl StoreError {
    /// Whether retrying later can succeed (see [`error_class`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            // A role that may not create what a migration creates will
            // not be allowed on a retry either: the service says so and exits.
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(error))
                if is_permission_denied(error) =>
            {
                ErrorClass::Permanent
            }
            StoreError::Migrate(_)
            | StoreError::SchemaBehind { .. }
            | StoreError::Unreachable { .. } => ErrorClass::Transient,
            StoreError::Config(_) => ErrorClass::Permanent,
            StoreError::Database(error) => error_class(error),
        }
    }

    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }
}

/// Classifies a PostgreSQL error by its SQLSTATE class. Permanent, a
/// property of the row: 22 (data exception: bad encoding such as NUL, a value
/// out of range), 23 (integrity constraint) and 54 (program limit: an index
/// row or a tsvector too large), and a value the driver cannot bind.
/// Everything else is transient and retried: 08 (connection), 40001 and
/// 40P01 (serialization failure, deadlock), 53 (resources), 55P03 (lock
/// timeout), 57014 (our `statement_timeout`), 57P (shutdown), I/O and pool
/// errors; and also what we cannot tell (42, XX): retrying until an operator
/// fixes the schema loses nothing, dead-lettering would lose the items.
pub fn error_class(error: &sqlx::Error) -> ErrorClass {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if ["22", "23", "54"]
                .iter()
                .any(|class| code.starts_with(class))
            {
                ErrorClass::Permanent
            } else {
                ErrorClass::Transient
            }
        }
        sqlx::Error::Encode(_) => ErrorClass::Permanent,
        _ => ErrorClass::Transient,
    }
}

/// SQLSTATE 42501, `insufficient_privilege`.
fn is_permission_denied(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("42501"))
}

/// [`error_class`] of the first PostgreSQL error in `error`'s chain (an
/// error of the dedup ledger wraps one); transient when there is none.
pub fn error_class_of(error: &(dyn std::error::Error + 'static)) -> ErrorClass {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(sqlx) = error.downcast_ref::<sqlx::Error>() {
            return error_class(sqlx);
        }
        if let Some(store) = error.downcast_ref::<StoreError>() {
            return store.class();
        }
        next = error.source();
    }
    ErrorClass::Transient
}

/// Connects lazily: the pool is returned at once and connects on first use,
/// so a command can start (and say what failed) while Postgres is down.
/// `config` as [`pool`], with a pool of `max_connections`.
pub fn connect_lazy(config: &DatabaseConfig, max_connections: u32) -> Result<PgPool, StoreError> {
    pool(&DatabaseConfig {
        max_connections,
        ..config.clone()
    })
}

/// How to reach the database of `config`: its URL (with any libpq
/// parameters it carries), then `sslmode` and `ssl_root_cert`, which win
/// over the URL's. The one place that reads the URL's password.
pub fn connect_options(config: &DatabaseConfig) -> Result<PgConnectOptions, StoreError> {
    let mut options: PgConnectOptions = config
        .url
        .expose()
        .parse()
        // sqlx's parse error quotes no URL, but it is cheap to be sure.
        .map_err(|e: sqlx::Error| StoreError::Config(redact(&e.to_string())))?;
    if let Some(mode) = config.sslmode {
        options = options.ssl_mode(match mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        });
    }
    if let Some(ca) = &config.ssl_root_cert {
        options = options.ssl_root_cert(ca);
    }
    Ok(options)
}

/// A lazy pool for `config`, with its session guards on every connection:
/// `statement_timeout`, `lock_timeout` and
/// `idle_in_transaction_session_timeout`, passed as startup options so that
/// they hold from the first statement, and `RESET` returns to them.
pub fn pool(config: &DatabaseConfig) -> Result<PgPool, StoreError> {
    let millis = |d: Duration| d.as_millis().to_string();
    let options = connect_options(config)?.options([
        ("statement_timeout", millis(config.statement_timeout)),
        ("lock_timeout", millis(config.lock_timeout)),
        (
            "idle_in_transaction_session_timeout",
            millis(config.idle_in_transaction_session_timeout),
        ),
    ]);
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.connect_timeout)
        .connect_lazy_with(options))
}

/// Migrates the schema. A migration may rewrite a large table, so it runs
/// without the pool's statement and lock timeouts, on one connection that
/// gets them back afterwards.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await?;
    sqlx::query("SET lock_timeout = 0")
        .execute(&mut *conn)
        .await?;
    let migrated = MIGRATOR.run(&mut *conn).await;
    if migrated.is_err() {
        // sqlx keeps its migration lock (a session-level advisory lock)
        // when a migration fails: released here, or the next attempt on
        // another connection of the pool, or another instance, waits for good.
        sqlx::query("SELECT pg_advisory_unlock_all()")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::raw_sql("RESET statement_timeout; RESET lock_timeout")
        .execute(&mut *conn)
        .await?;
    migrated?;
    Ok(())
}

/// The newest migration this build embeds.
pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether the schema has every migration of this build (or newer ones,
/// during a rolling upgrade), for a service that does not migrate itself:
/// the least-privilege roles may read `_sqlx_migrations`, nothing more.
pub async fn check_schema(pool: &PgPool) -> Result<(), StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    let needed = latest_migration();
    match found {
        Some(found) if found >= needed => Ok(()),
        found => Err(StoreError::SchemaBehind { found, needed }),
    }
}

/// The readiness check for Postgres.
pub async fn ping(pool: &PgPool) -> Result<(), String> {
    sqlx::query("SELECT 1")
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("postgres unreachable: {}", redact(&e.to_string())))
}
