//! Everything wirestream keeps in PostgreSQL. All SQL lives in this crate and
//! every value goes through bound parameters.
//!
//! Writes take whole batches and run one statement per table (`UNNEST` of
//! column arrays), and every write is idempotent, so replaying a topic into
//! them changes nothing.

mod articles;
mod copy;
pub mod csv;
mod dead_letters;
mod ledger;
mod offsets;
pub mod report;
mod search_index;
pub mod service;

use std::time::Duration;

pub use articles::write_articles;
pub use copy::write_articles_copy;
pub use dead_letters::{
    find_dead_letters, mark_replayed, write_dead_letters, DeadLetterFilter, StoredDeadLetter,
};
pub use ledger::PgLedger;
pub use offsets::{load_offsets, OffsetCommit, PartitionOffset};
pub use search_index::flush_search_index;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

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
    #[error("failed to connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("failed to migrate the schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True when retrying later can succeed (the server is down, restarting or
    /// overloaded), false when the data itself was refused.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect(_) | StoreError::Migrate(_) => true,
            StoreError::Database(error) => is_transient(error),
        }
    }
}

/// Connection errors and server-side states that pass: the rest is about the data.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // 08: connection exception, 40: transaction rollback (serialization,
            // deadlock), 53: insufficient resources, 57: operator intervention
            // (shutdown, cancel), 58: system error.
            ["08", "40", "53", "57", "58"]
                .iter()
                .any(|class| code.starts_with(class))
        }
        _ => false,
    }
}

/// Connects lazily: the pool is returned at once and connects on first use,
/// so a service can start (and report not ready) while Postgres is down.
pub fn connect_lazy(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<PgPool, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(StoreError::Connect)?;
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options))
}

pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// The readiness check for Postgres.
pub async fn ping(pool: &PgPool) -> Result<(), String> {
    sqlx::query("SELECT 1")
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("postgres unreachable: {}", redact(&e.to_string())))
}

/// Removes a password from anything that looks like a connection URL, so that
/// error messages can be logged.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let user = authority[..at].split(':').next().unwrap_or("");
                out.push_str(user);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("cannot reach postgres://app:s3cret@db:5432/wirestream now"),
            "cannot reach postgres://app:***@db:5432/wirestream now"
        );
        assert_eq!(
            redact("postgres://db/wirestream"),
            "postgres://db/wirestream"
        );
    }
}
