//! Upkeep of the full-text index on `articles.search`.
//!
//! The index is a GIN index with PostgreSQL's default `fastupdate`: new
//! entries go to a pending list, which is cheap to append to. When the list
//! passes `gin_pending_list_limit` (4 MB), the insert that finds it so merges
//! all of it into the tree, inside its own transaction: under steady
//! ingestion one sink transaction in about fifty took ten times as long,
//! every few seconds (docs/benchmarks.md). Turning `fastupdate` off instead
//! spreads that work evenly but multiplies it: PostgreSQL's CPU per article
//! went up by 65% and its WAL threefold. So the sink merges the list itself,
//! off the write path, by calling this every few seconds (`sink.search_index_flush`,
//! 2 s; the index's pending list holds 32 MB so that inserts do not fill it
//! in between).

use sqlx::PgPool;

use crate::StoreError;

/// Merges the pending entries of the full-text index into its tree, and
/// returns how many pending-list pages that cleared. Concurrent inserts carry
/// on meanwhile (they append to the list's tail); a second caller waits for
/// the first. `gin_clean_pending_list` is for the index's owner only, so
/// this calls the owner's `wirestream_flush_search_index()`, which the
/// roles migration lends to `wirestream_sink`.
pub async fn flush_search_index(pool: &PgPool) -> Result<i64, StoreError> {
    let pages: i64 = sqlx::query_scalar("SELECT wirestream_flush_search_index()")
        .fetch_one(pool)
        .await?;
    Ok(pages)
}
