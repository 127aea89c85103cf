//! The store's ceiling: how fast PostgreSQL alone takes in what the pipeline
//! writes for a set of items. The same rows into the same tables, with the
//! same indexes, the generated tsvector and the dedup state, and nothing
//! else running: no broker, no consumers, no normalising or deduplicating in
//! the timed part. Two ways, each into a fresh database:
//!
//! - our write path: the worker's ledger calls (recorded beforehand by
//!   running the dedup on a memory ledger) replayed on a [`PgLedger`], and
//!   the sink's `write_batch` transactions beside them, on their own
//!   connections as the two services have, with the sink's search-index
//!   flush as often as the sink's;
//! - `COPY`: every table's final rows, one `COPY` per table, the article
//!   tables and the dedup tables on two connections at once.
//!
//! The ceiling is the faster of the two; `make bench` divides its end-to-end
//! rate by it (`e2e_vs_store_ceiling`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;
use wirestream_dedup::{DedupConfig, Deduplicator};
use wirestream_model::Article;
use wirestream_store::PgLedger;

use crate::csv::{text, time};
use crate::pgcpu::PgCpu;
use crate::recorder::{Call, Recorder};
use crate::scratch::Scratch;

pub struct Options {
    /// Items per worker batch (the worker's `batch_size`).
    pub worker_batch: usize,
    /// Rows per sink transaction (the sink's `batch_size`).
    pub sink_batch: usize,
    /// The postmaster's pid, to report PostgreSQL's CPU per method.
    pub postgres_pid: Option<u32>,
    /// The dedup's `allowed_lateness`, as the bench's worker has it: the
    /// bench's repeats of the corpus come months behind the newest item,
    /// and with a shorter one their verdicts would depend on the batching
    /// (docs/dedup.md, "Late items and allowed lateness").
    pub allowed_lateness: Duration,
}

pub async fn run(items: &Path, server_url: &str, options: &Options) -> anyhow::Result<()> {
    let mut articles = crate::sink::articles(items).await?;
    let rows = articles.len();
    anyhow::ensure!(rows > 0, "no article in {}", items.display());
    // The verdicts the worker would reach, and its ledger calls, untimed.
    let calls = Arc::new(Mutex::new(Vec::new()));
    let config = DedupConfig {
        allowed_lateness: options.allowed_lateness,
        ..DedupConfig::default()
    };
    let mut dedup = Deduplicator::with_config(Recorder::new(Arc::clone(&calls)), config);
    for batch in articles.chunks_mut(options.worker_batch.max(1)) {
        dedup
            .decide(batch)
            .await
            .context("failed to decide a batch")?;
    }
    drop(dedup);
    let verdicts = verdict_counts(&articles);
    let calls = std::mem::take(
        &mut *calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let state = DedupRows::of(&calls);

    let tag = std::process::id();
    let pg = options.postgres_pid.map(PgCpu::new);
    let used = || pg.as_ref().and_then(PgCpu::used);
    let scratch = Scratch::create(server_url, &format!("wirestream_ceiling_w{tag}")).await?;
    let before = used();
    let write_path = write_path(&scratch.pool, &articles, &calls, options.sink_batch).await?;
    let write_cpu = used()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    let sizes = table_sizes(&scratch.pool).await?;
    scratch.drop().await?;

    let scratch = Scratch::create(server_url, &format!("wirestream_ceiling_c{tag}")).await?;
    let before = used();
    let copy = copy_all(&scratch.pool, &articles, &state).await?;
    let copy_cpu = used()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    scratch.drop().await?;

    let rate = |elapsed: Duration| rows as f64 / elapsed.as_secs_f64().max(1e-9);
    let (w, c) = (rate(write_path.elapsed), rate(copy));
    println!(
        "store ceiling: {rows} articles (the items that normalise); worker batches of {}, sink batches of {}; {}",
        options.worker_batch, options.sink_batch, sizes
    );
    println!("| method | seconds | articles/s |");
    println!("|---|---|---|");
    println!(
        "| our write path: ledger calls ({:.2} s) + sink transactions ({:.2} s), side by side | {:.2} | {w:.0} |",
        write_path.worker.as_secs_f64(),
        write_path.sink.as_secs_f64(),
        write_path.elapsed.as_secs_f64()
    );
    println!(
        "| COPY of every table's final rows, two connections | {:.2} | {c:.0} |",
        copy.as_secs_f64()
    );
    println!("ceiling_verdicts={verdicts}");
    println!("ceiling_write_path_per_s={w:.0}");
    println!("ceiling_copy_per_s={c:.0}");
    println!("store_ceiling_per_s={:.0}", w.max(c));
    // PostgreSQL's CPU for the faster method: per 1,000 articles, and the
    // cores it kept busy (what the pipeline would need to leave it).
    let (cpu, elapsed) = if w >= c {
        (write_cpu, write_path.elapsed)
    } else {
        (copy_cpu, copy)
    };
    if let Some(cpu) = cpu {
        let per_1k = cpu.as_secs_f64() * 1000.0 / rows as f64;
        let cores = cpu.as_secs_f64() / elapsed.as_secs_f64().max(1e-9);
        println!("ceiling_pg_cpu_s_per_1k={per_1k:.3}");
        println!("ceiling_pg_cores={cores:.2}");
    }
    Ok(())
}

/// `new:N,version:N,duplicate:N,kill:N`, as bench.sh prints step 3's: the
/// same items decided again, by the memory ledger in fixed batches, should
/// get the same counts.
fn verdict_counts(articles: &[Article]) -> String {
    use wirestream_model::Verdict;
    [
        Verdict::New,
        Verdict::Version,
        Verdict::Duplicate,
        Verdict::Kill,
    ]
    .iter()
    .map(|v| {
        let n = articles.iter().filter(|a| a.verdict == *v).count();
        format!("{}:{n}", v.as_str())
    })
    .collect::<Vec<_>>()
    .join(",")
}

/// How long the write path took, and each side of it.
struct WritePath {
    elapsed: Duration,
    worker: Duration,
    sink: Duration,
}

/// The worker's and the sink's statements, replayed side by side.
async fn write_path(
    pool: &PgPool,
    articles: &[Article],
    calls: &[Call],
    sink_batch: usize,
) -> anyhow::Result<WritePath> {
    sqlx::query("CHECKPOINT").execute(pool).await?;
    let done = Arc::new(AtomicBool::new(false));
    // As often as the sink merges the search index's pending list.
    let every = wirestream_runtime::config::SinkConfig::default().search_index_flush;
    let flush = tokio::spawn({
        let (pool, done) = (pool.clone(), Arc::clone(&done));
        async move {
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(every).await;
                wirestream_store::flush_search_index(&pool).await?;
            }
            anyhow::Ok(())
        }
    });
    let started = Instant::now();
    let worker = async {
        let mut ledger = PgLedger::new(pool.clone());
        for call in calls {
            call.replay(&mut ledger)
                .await
                .context("failed to replay a ledger call")?;
        }
        anyhow::Ok(started.elapsed())
    };
    let sink = async {
        for chunk in articles.chunks(sink_batch.max(1)) {
            wirestream_store::write_batch(pool, chunk, &[], None)
                .await
                .context("failed to write a sink batch")?;
        }
        anyhow::Ok(started.elapsed())
    };
    let outcome = tokio::try_join!(worker, sink);
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    flush.await??;
    let (worker, sink) = outcome?;
    Ok(WritePath {
        elapsed,
        worker,
        sink,
    })
}

/// Rows left in the tables after the write path, for the report.
async fn table_sizes(pool: &PgPool) -> anyhow::Result<String> {
    let mut out = String::new();
    for table in [
        "articles",
        "article_versions",
        "dedup_decisions",
        "dedup_hashes",
        "dedup_sketches",
        "dedup_bands",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(pool)
            .await?;
        let _ = write!(out, "{}{table} {n}", if out.is_empty() { "" } else { ", " });
    }
    Ok(format!("rows after the write path: {out}"))
}

/// Every dedup table's rows as `COPY` CSV: what the ledger's statements
/// keep, first writer wins, a key full at `max_per_key` takes no more.
/// Expiry is left out: its deletes are work the write path does and `COPY`
/// does not, which only favours `COPY`.
struct DedupRows {
    decisions: String,
    hashes: String,
    sketches: String,
    bands: String,
}

impl DedupRows {
    fn of(calls: &[Call]) -> DedupRows {
        let mut rows = DedupRows {
            decisions: String::new(),
            hashes: String::new(),
            sketches: String::new(),
            bands: String::new(),
        };
        let (mut decided, mut hashed, mut indexed, mut listed) = (
            HashSet::new(),
            HashSet::new(),
            HashSet::new(),
            HashSet::new(),
        );
        let mut per_key: HashMap<u64, usize> = HashMap::new();
        for call in calls {
            match call {
                Call::Claim(claims) => {
                    for c in claims {
                        if !hashed.insert(c.content_hash.clone()) {
                            continue;
                        }
                        let out = &mut rows.hashes;
                        for (n, field) in [&c.content_hash, &c.provider, &c.uri, &c.story_uri]
                            .into_iter()
                            .enumerate()
                        {
                            if n > 0 {
                                out.push(',');
                            }
                            text(out, field);
                        }
                        out.push(',');
                        time(out, Some(c.seen_at));
                        out.push('\n');
                    }
                }
                Call::Commit(entries, records, max_per_key) => {
                    for (keys, e) in entries {
                        if !indexed.insert((e.provider.clone(), e.uri.clone())) {
                            continue;
                        }
                        let out = &mut rows.sketches;
                        text(out, &e.provider);
                        out.push(',');
                        text(out, &e.uri);
                        out.push(',');
                        text(out, &e.story_uri);
                        out.push(',');
                        time(out, Some(e.seen_at));
                        out.push_str(",\\x");
                        for byte in e.sketch.to_bytes() {
                            let _ = write!(out, "{byte:02x}");
                        }
                        out.push('\n');
                        for &key in keys {
                            let held = per_key.entry(key).or_default();
                            if *held >= *max_per_key
                                || !listed.insert((key, e.provider.clone(), e.uri.clone()))
                            {
                                continue;
                            }
                            *held += 1;
                            let out = &mut rows.bands;
                            // Slots number a key's entries from 1, in the
                            // order they were indexed, as the ledger's do.
                            let _ = write!(out, "{},{},", key as i64, *held);
                            text(out, &e.provider);
                            out.push(',');
                            text(out, &e.uri);
                            out.push(',');
                            time(out, Some(e.seen_at));
                            out.push('\n');
                        }
                    }
                    for r in records {
                        if !decided.insert(r.item.clone()) {
                            continue;
                        }
                        let out = &mut rows.decisions;
                        text(out, &r.item.provider);
                        out.push(',');
                        text(out, &r.item.uri);
                        let _ = write!(out, ",{},{},", r.item.version, r.decision.verdict.as_str());
                        if let Some(story) = &r.decision.duplicate_of {
                            text(out, story);
                        }
                        out.push(',');
                        if let Some(s) = r.decision.similarity {
                            let _ = write!(out, "{s}");
                        }
                        out.push(',');
                        time(out, Some(r.seen_at));
                        out.push('\n');
                    }
                }
                Call::Lookup(..) | Call::Near(..) | Call::Expire(_) => {}
            }
        }
        rows
    }
}

/// The articles table at each item's latest version, and every version.
fn article_rows(articles: &[Article]) -> (String, String) {
    let mut latest: HashMap<(&str, &str), &Article> = HashMap::new();
    let mut versions = String::new();
    let mut seen = HashSet::new();
    for a in articles {
        let at = latest.entry((&a.provider, &a.uri)).or_insert(a);
        if a.version >= at.version {
            *at = a;
        }
        if !seen.insert((&a.provider, &a.uri, a.version)) {
            continue;
        }
        text(&mut versions, &a.provider);
        versions.push(',');
        text(&mut versions, &a.uri);
        let _ = write!(
            versions,
            ",{},{},{},",
            a.version,
            a.pubstatus.as_str(),
            a.verdict.as_str()
        );
        text(&mut versions, &a.headline);
        versions.push(',');
        text(&mut versions, &a.body);
        versions.push(',');
        text(&mut versions, &a.content_hash);
        versions.push(',');
        time(&mut versions, Some(a.received_at));
        versions.push('\n');
    }
    let mut rows = String::new();
    // In the items' order, as they would arrive.
    for a in articles {
        if latest
            .get(&(a.provider.as_str(), a.uri.as_str()))
            .is_some_and(|l| std::ptr::eq(*l, a))
        {
            crate::csv::row(&mut rows, a);
        }
    }
    (rows, versions)
}

async fn copy_in(pool: &PgPool, table: &str, columns: &str, csv: &str) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN (FORMAT csv)"))
        .await?;
    copy.send(csv.as_bytes()).await?;
    copy.finish()
        .await
        .with_context(|| format!("failed to COPY into {table}"))?;
    Ok(())
}

/// Every table's final rows by `COPY`, the article tables and the dedup
/// tables on two connections at once (the sink's and the worker's).
async fn copy_all(
    pool: &PgPool,
    articles: &[Article],
    state: &DedupRows,
) -> anyhow::Result<Duration> {
    let (rows, versions) = article_rows(articles);
    sqlx::query("CHECKPOINT").execute(pool).await?;
    let started = Instant::now();
    let sink = async {
        copy_in(pool, "articles", crate::csv::COLUMNS, &rows).await?;
        copy_in(
            pool,
            "article_versions",
            "provider, uri, version, pubstatus, verdict, headline, body, content_hash, received_at",
            &versions,
        )
        .await
    };
    let worker = async {
        copy_in(
            pool,
            "dedup_decisions",
            "provider, uri, version, verdict, duplicate_of, similarity, seen_at",
            &state.decisions,
        )
        .await?;
        copy_in(
            pool,
            "dedup_hashes",
            "content_hash, provider, uri, story_uri, seen_at",
            &state.hashes,
        )
        .await?;
        copy_in(
            pool,
            "dedup_sketches",
            "provider, uri, story_uri, seen_at, sketch",
            &state.sketches,
        )
        .await?;
        copy_in(
            pool,
            "dedup_bands",
            "band_key, slot, provider, uri, seen_at",
            &state.bands,
        )
        .await
    };
    tokio::try_join!(sink, worker)?;
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirestream_model::fixtures::article;

    #[tokio::test]
    async fn copy_rows_are_what_the_write_path_keeps() {
        let mut v2 = article("a", "Cocoa", "Showers continued in Bahia, the review said.");
        v2.version = 2;
        let mut items = vec![
            article("a", "Cocoa", "Showers continued in Bahia, the review said."),
            v2,
            article("b", "Cocoa", "Showers continued in Bahia, the review said."),
        ];
        let (rows, versions) = article_rows(&items);
        assert_eq!(
            rows.lines().count(),
            2,
            "one row per item, at its latest version"
        );
        assert!(rows.starts_with("\"reuters\",\"a\",2,"), "{rows}");
        assert_eq!(versions.lines().count(), 3);

        let calls = Arc::new(Mutex::new(Vec::new()));
        let config = DedupConfig {
            max_per_key: 1,
            ..DedupConfig::default()
        };
        let mut dedup = Deduplicator::with_config(Recorder::new(Arc::clone(&calls)), config);
        dedup.decide(&mut items).await.unwrap();
        assert_eq!(verdict_counts(&items), "new:1,version:1,duplicate:1,kill:0");
        let state = DedupRows::of(&calls.lock().unwrap());
        assert_eq!(state.decisions.lines().count(), 3);
        // b is an exact copy of a: one hash, one sketch, and a's bands only.
        assert_eq!(state.hashes.lines().count(), 1);
        assert_eq!(state.sketches.lines().count(), 1);
        let keys: HashSet<&str> = state
            .bands
            .lines()
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(
            keys.len(),
            state.bands.lines().count(),
            "max_per_key 1: one article per key"
        );
    }

    /// The COPY columns must follow the schema: a migration that adds a
    /// NOT NULL column (the band slot) broke the ceiling once, unseen.
    #[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
    async fn copy_loads_every_table_of_the_current_schema(pool: PgPool) {
        let mut items = vec![
            article("a", "Cocoa", "Showers continued in Bahia, the review said."),
            article("b", "Cocoa", "Showers continued in Bahia, the review said."),
            article(
                "c",
                "Sugar",
                "Output rose in the third quarter, traders said.",
            ),
        ];
        let calls = Arc::new(Mutex::new(Vec::new()));
        let mut dedup =
            Deduplicator::with_config(Recorder::new(Arc::clone(&calls)), DedupConfig::default());
        dedup.decide(&mut items).await.unwrap();
        let state = DedupRows::of(&calls.lock().unwrap());
        copy_all(&pool, &items, &state).await.unwrap();
        let bands: i64 = sqlx::query_scalar("SELECT count(*) FROM dedup_bands")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(bands as usize, state.bands.lines().count());
        let articles: i64 = sqlx::query_scalar("SELECT count(*) FROM articles")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(articles, 3);
    }
}
