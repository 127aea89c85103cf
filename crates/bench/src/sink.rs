//! Sink write speed on the Reuters corpus, three ways, on one table, in one run:
//! the sink's `UNNEST` batches, `COPY` into a staging table then upsert, and
//! `psql \copy` straight into the empty table (the floor: no conflict
//! handling, no version history, one statement).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;
use wirestream_formats::{parse_ndjson, Context};
use wirestream_model::Article;

pub async fn articles(corpus: &Path) -> anyhow::Result<Vec<Article>> {
    let bytes =
        std::fs::read(corpus).with_context(|| format!("failed to read {}", corpus.display()))?;
    let now = chrono::Utc::now();
    Ok(parse_ndjson(&bytes, &Context::new("bench"))
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|raw| wirestream_normalize::normalize(&raw, now).ok())
        .collect())
}

async fn reset(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("TRUNCATE articles, article_versions")
        .execute(pool)
        .await?;
    sqlx::query("CHECKPOINT").execute(pool).await?;
    Ok(())
}

fn rate(rows: usize, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64().max(1e-9)
}

pub async fn run(corpus: &Path, batch: usize, server_url: &str) -> anyhow::Result<()> {
    let articles = articles(corpus).await?;
    let rows = articles.len();
    let name = format!("wirestream_bench_{}", std::process::id());
    let scratch = crate::scratch::Scratch::create(server_url, &name).await?;
    let (pool, url) = (scratch.pool.clone(), scratch.url.clone());
    let synchronous_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&pool)
        .await?;

    let started = Instant::now();
    for chunk in articles.chunks(batch.max(1)) {
        wirestream_store::write_batch(&pool, chunk, &[], None).await?;
    }
    let unnest = started.elapsed();
    reset(&pool).await?;

    let started = Instant::now();
    for chunk in articles.chunks(batch.max(1)) {
        crate::copy::write_articles_copy(&pool, chunk).await?;
    }
    let copy_staging = started.elapsed();
    reset(&pool).await?;

    let mut csv = String::new();
    for article in &articles {
        crate::csv::row(&mut csv, article);
    }
    let file = std::env::temp_dir().join(format!("{name}.csv"));
    std::fs::write(&file, &csv)?;
    let started = Instant::now();
    let status = Command::new("psql")
        .arg(&url)
        .arg("-qc")
        .arg(format!(
            "\\copy articles ({}) FROM '{}' WITH (FORMAT csv)",
            crate::csv::COLUMNS,
            file.display()
        ))
        .status()
        .context("failed to run psql")?;
    let psql_copy = started.elapsed();
    anyhow::ensure!(status.success(), "psql \\copy failed");
    let _ = std::fs::remove_file(&file);

    scratch.drop().await?;

    let (u, c, p) = (
        rate(rows, unnest),
        rate(rows, copy_staging),
        rate(rows, psql_copy),
    );
    println!("sink writes: {rows} Reuters articles, batches of {batch}, synchronous_commit={synchronous_commit}");
    println!("| method | seconds | rows/s | vs psql \\copy |");
    println!("|---|---|---|---|");
    println!(
        "| sink: UNNEST upsert + versions | {:.2} | {u:.0} | {:.2} |",
        unnest.as_secs_f64(),
        u / p
    );
    println!(
        "| COPY to staging + upsert + versions | {:.2} | {c:.0} | {:.2} |",
        copy_staging.as_secs_f64(),
        c / p
    );
    println!(
        "| psql \\copy into the empty table | {:.2} | {p:.0} | 1.00 |",
        psql_copy.as_secs_f64()
    );
    println!("sink_rows_per_s={u:.0}");
    println!("copy_staging_rows_per_s={c:.0}");
    println!("psql_copy_rows_per_s={p:.0}");
    println!("sink_vs_copy={:.2}", u / p);
    Ok(())
}
