//! The fault driver (issue 8): feeds the [`items`](crate::items) through
//! ingest's HTTP API while a test breaks things, then compares PostgreSQL
//! with the expected outcome.
//!
//! The feeder is an at-least-once client: a batch that got no 202 (a
//! refused connection, a reset, a 503, a timeout) is sent again, whole,
//! until it does. Items of a re-sent batch may already be in the raw topic;
//! the worker must recognise them as replays.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use sqlx::{PgPool, Row as _};

use crate::items::{canonical, item_set, Expected, ItemSet, Row};
use crate::Pipeline;

/// NDJSON lines per request.
const BATCH: usize = 200;
/// Requests in flight at once.
const CONCURRENCY: usize = 4;
/// How long one batch may keep failing before the feeder gives up.
const GIVE_UP: Duration = Duration::from_secs(180);

/// Items sent so far, how many were sent again, and how many answers
/// were 503 (ingest saying "the broker cannot take it now").
#[derive(Default)]
pub struct Progress {
    pub accepted: AtomicUsize,
    pub resent: AtomicUsize,
    pub unavailable: AtomicUsize,
}

pub struct Feeder {
    pub progress: Arc<Progress>,
    pub set: &'static ItemSet,
    task: tokio::task::JoinHandle<anyhow::Result<Duration>>,
}

impl Feeder {
    /// Starts feeding every phase of the item set to `ingest_url`, at most
    /// `rate` items a second (so that the stream lasts while faults happen).
    pub fn start(ingest_url: &str, rate: f64) -> Feeder {
        let set = item_set();
        let progress = Arc::new(Progress::default());
        let url = format!("{ingest_url}/v1/articles:batch");
        let task = tokio::spawn(feed(url, set, rate, progress.clone()));
        Feeder {
            progress,
            set,
            task,
        }
    }

    pub fn accepted(&self) -> usize {
        self.progress.accepted.load(Ordering::SeqCst)
    }

    pub fn resent(&self) -> usize {
        self.progress.resent.load(Ordering::SeqCst)
    }

    /// 503 answers so far.
    pub fn unavailable(&self) -> usize {
        self.progress.unavailable.load(Ordering::SeqCst)
    }

    /// Waits until `n` items were accepted; `false` if `within` passed first.
    pub async fn wait_accepted(&self, n: usize, within: Duration) -> bool {
        let started = Instant::now();
        while self.accepted() < n {
            if started.elapsed() > within || self.task.is_finished() {
                return self.accepted() >= n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// Waits until every item was accepted; returns how long feeding took.
    pub async fn finish(self) -> anyhow::Result<Duration> {
        self.task.await?
    }
}

async fn feed(
    url: String,
    set: &ItemSet,
    rate: f64,
    progress: Arc<Progress>,
) -> anyhow::Result<Duration> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let started = Instant::now();
    let mut sent = 0usize;
    for phase in &set.phases {
        let mut requests = Vec::new();
        for chunk in phase.chunks(BATCH) {
            // The n-th item leaves no earlier than n / rate seconds in.
            let due = started + Duration::from_secs_f64(sent as f64 / rate);
            sent += chunk.len();
            requests.push((due, chunk.join("\n").into_bytes(), chunk.len()));
        }
        let mut results = futures::stream::iter(requests)
            .map(|(due, body, items)| {
                let client = client.clone();
                let url = url.clone();
                let progress = progress.clone();
                async move {
                    tokio::time::sleep_until(due.into()).await;
                    send(&client, &url, body, items, &progress).await
                }
            })
            .buffer_unordered(CONCURRENCY);
        while let Some(result) = results.next().await {
            result?;
        }
    }
    Ok(started.elapsed())
}

/// Sends one batch until ingest answers 2xx.
async fn send(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    items: usize,
    progress: &Progress,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let response = client
            .post(url)
            .header("content-type", "application/x-ndjson")
            .body(body.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => {
                progress.accepted.fetch_add(items, Ordering::SeqCst);
                return Ok(());
            }
            // "Later" (429, 503) and server errors: no 202, so send again.
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                if r.status().as_u16() == 503 {
                    progress.unavailable.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                anyhow::bail!("ingest refused a batch: {status} {text}");
            }
            Err(_) => {} // connection refused or reset, timeout: no answer
        }
        anyhow::ensure!(
            started.elapsed() < GIVE_UP,
            "a batch got no 202 within {GIVE_UP:?}"
        );
        progress.resent.fetch_add(items, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What PostgreSQL holds, in the terms of [`Expected`].
pub struct Observed {
    pub verdicts: BTreeMap<String, usize>,
    pub articles: usize,
    pub versions: usize,
    pub dead_letters: usize,
    pub lines: Vec<String>,
}

impl Observed {
    pub async fn read(pool: &PgPool) -> anyhow::Result<Observed> {
        let rows: Vec<Row> =
            sqlx::query("SELECT uri, version, pubstatus, verdict, duplicate_of FROM articles")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| Row {
                    uri: r.get("uri"),
                    version: r.get("version"),
                    pubstatus: r.get("pubstatus"),
                    verdict: r.get("verdict"),
                    duplicate_of: r.get("duplicate_of"),
                })
                .collect();
        let versions: Vec<(String, i64)> =
            sqlx::query_as("SELECT uri, version FROM article_versions")
                .fetch_all(pool)
                .await?;
        // item_key is provider, U+001F, uri.
        let letters: Vec<String> = sqlx::query_scalar(
            "SELECT substr(coalesce(item_key, ''), strpos(coalesce(item_key, ''), chr(31)) + 1) FROM dead_letters",
        )
        .fetch_all(pool)
        .await?;
        let mut verdicts = BTreeMap::new();
        for row in &rows {
            *verdicts.entry(row.verdict.clone()).or_insert(0) += 1;
        }
        Ok(Observed {
            verdicts,
            articles: rows.len(),
            versions: versions.len(),
            dead_letters: letters.len(),
            lines: canonical(&rows, &versions, &letters),
        })
    }
}

/// Waits until PostgreSQL holds as many versions and dead letters as
/// expected (or `within` passed), then reads it.
pub async fn settle(pipeline: &Pipeline, within: Duration) -> Observed {
    let expected = &item_set().expected;
    let started = Instant::now();
    loop {
        let counts: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT (SELECT count(*) FROM article_versions), (SELECT count(*) FROM dead_letters)",
        )
        .fetch_one(&pipeline.pool)
        .await;
        let done = counts.is_ok_and(|(v, d)| {
            v as usize >= expected.versions && d as usize >= expected.dead_letters
        });
        if done || started.elapsed() > within {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A replay still in flight would show as a changed row: give it a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut tries = 0;
    loop {
        match Observed::read(&pipeline.pool).await {
            Ok(observed) => return observed,
            Err(error) if tries < 20 => {
                tries += 1;
                eprintln!("reading the store failed ({error}), retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => panic!("cannot read the store: {error}"),
        }
    }
}

/// Compares the store with the expected outcome: equal counts, and the md5
/// of the canonical lines equal. Prints one summary line (also in a passing
/// run: it goes to the process's stderr, which the test runner does not
/// capture) and returns it, or panics with the counts and the first differences.
pub async fn compare(
    scenario: &str,
    pipeline: &Pipeline,
    observed: &Observed,
    feeder_resent: usize,
    took: Duration,
) -> String {
    let expected: &Expected = &item_set().expected;
    let sums: (String, String) = sqlx::query_as("SELECT md5($1), md5($2)")
        .bind(expected.lines.join("\n"))
        .bind(observed.lines.join("\n"))
        .fetch_one(&pipeline.pool)
        .await
        .expect("md5 from PostgreSQL");
    let stored = observed.versions + observed.dead_letters;
    let line = format!(
        "faults {scenario}: {} items sent ({feeder_resent} re-sent) -> {stored} accounted for: \
         articles {:?} (expected {:?}), {} versions (expected {}), {} dead letters (expected {}), \
         checksum {} (expected {}), {:.1}s",
        expected.items,
        observed.verdicts,
        expected.verdicts,
        observed.versions,
        expected.versions,
        observed.dead_letters,
        expected.dead_letters,
        sums.1,
        sums.0,
        took.as_secs_f64()
    );
    let _ = writeln!(std::io::stderr(), "{line}");
    if sums.0 != sums.1 || observed.verdicts != expected.verdicts {
        let missing = difference(&expected.lines, &observed.lines);
        let extra = difference(&observed.lines, &expected.lines);
        panic!(
            "{line}\nexpected but not stored ({}), first: {:?}\nstored but not expected ({}), first: {:?}\n{}",
            missing.len(),
            &missing[..missing.len().min(10)],
            extra.len(),
            &extra[..extra.len().min(10)],
            tail(&pipeline.logs(), 30_000)
        );
    }
    assert_eq!(stored, expected.items, "{line}");
    line
}

/// Lines of `a` not in `b` (both sorted), counting repeats.
fn difference<'a>(a: &'a [String], b: &[String]) -> Vec<&'a String> {
    let mut counts: BTreeMap<&String, i64> = BTreeMap::new();
    for line in b {
        *counts.entry(line).or_insert(0) += 1;
    }
    let mut out = Vec::new();
    for line in a {
        match counts.get_mut(line) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(line),
        }
    }
    out
}

/// The end of a long text (service logs), cut at a character boundary.
pub fn tail(text: &str, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
