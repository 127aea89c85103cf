//! The other way to write a batch: binary-safe CSV `COPY` into a staging
//! table, then `INSERT … SELECT … ON CONFLICT` with the same version rules as
//! the `UNNEST` path. Kept to measure the two against each other
//! (`wirestream-bench sink`, docs/benchmarks.md); the sink uses `UNNEST`, in
//! `wirestream_store`. Only the benchmark uses this path, so it lives here.

use sqlx::PgPool;
use wirestream_model::Article;

use wirestream_store::UPSERT_LATEST;

use crate::csv::{row, COLUMNS};

/// Writes articles through a staging table and `COPY`, in one transaction.
pub async fn write_articles_copy(pool: &PgPool, batch: &[Article]) -> sqlx::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut csv = String::with_capacity(batch.len() * 2048);
    for article in batch {
        row(&mut csv, article);
    }
    let mut tx = pool.begin().await?;
    sqlx::query("CREATE TEMP TABLE IF NOT EXISTS articles_staging (LIKE articles INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        .execute(&mut *tx)
        .await?;
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY articles_staging ({COLUMNS}) FROM STDIN (FORMAT csv)"
        ))
        .await?;
    copy.send(csv.as_bytes()).await?;
    copy.finish().await?;
    sqlx::query(
        "INSERT INTO article_versions (provider, uri, version, pubstatus, verdict, headline, body, content_hash, received_at)
         SELECT provider, uri, version, pubstatus, verdict, headline, body, content_hash, received_at FROM articles_staging
         ON CONFLICT (provider, uri, version) DO NOTHING",
    )
    .execute(&mut *tx)
    .await?;
    let upsert = format!(
        "INSERT INTO articles AS a ({COLUMNS}, killed_at)
         SELECT DISTINCT ON (provider, uri) {COLUMNS}, CASE WHEN pubstatus = 'canceled' THEN now() END
         FROM articles_staging
         ORDER BY provider, uri, pubstatus = 'canceled' DESC, version DESC
         {UPSERT_LATEST}"
    );
    sqlx::query(&upsert).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
