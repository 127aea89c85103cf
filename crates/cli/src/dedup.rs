//! `wirestream dedup`: the worker's normalise-and-deduplicate path on files, in memory.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use wirestream_dedup::{Deduplicator, MemoryLedger};
use wirestream_formats::ParseError;
use wirestream_model::{Article, RawItem};
use wirestream_runtime::Config;

use crate::input;
use crate::parse::parse_input;

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders; `-` reads stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Items decided together (as the worker does per batch).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Print timings and the index size to stderr (for `make bench-dedup`).
    #[arg(long)]
    stats: bool,
    /// Normalise and decide the input this many times, each pass from an
    /// empty index (for `make bench-dedup`: a long-running worker works in
    /// memory it has touched before, and the first pass of a fresh process
    /// pays the kernel for every new page). The verdicts are the last pass's.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    passes: u32,
}

/// What one pass of normalise and dedup produced, and how long it took.
struct Pass {
    slots: Vec<Slot>,
    articles: Vec<Article>,
    normalise_time: Duration,
    dedup_time: Duration,
    /// The process's CPU time over both phases: the clock datasketch's
    /// side of `make bench-dedup` is read with (Python's `process_time`),
    /// which other processes on the core do not advance.
    cpu_time: Duration,
    late: u64,
    indexed: usize,
    index_bytes: usize,
}

#[derive(Serialize)]
struct Line<'a> {
    uri: &'a str,
    verdict: &'a str,
    duplicate_of: Option<&'a str>,
    similarity: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// An input item: decided, or refused with a reason.
enum Slot {
    Article(usize),
    Refused { uri: String, reason: String },
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let now = chrono::Utc::now();
    let started = Instant::now();
    let mut parsed = Vec::new();
    for path in input::expand(&args.paths)? {
        let input = input::read(&path, config.ingest.max_body_bytes as u64 * 64)?;
        parsed.extend(parse_input(&input, config));
    }
    let parse_time = started.elapsed();

    let dedup_config: wirestream_dedup::DedupConfig = config.worker.dedup.parse("worker.dedup")?;
    let mut pass = None;
    for number in 1..=args.passes {
        // The previous pass's articles and index go first, so that this
        // one reuses their memory.
        drop(pass.take());
        let this = decide(&parsed, now, &dedup_config, args.batch).await?;
        if args.stats {
            let work = (this.normalise_time + this.dedup_time).as_secs_f64();
            let cpu = this.cpu_time.as_secs_f64();
            eprintln!(
                "pass={number} items={} parse_s={:.3} normalise_s={:.3} dedup_s={:.3} normalise_dedup_items_per_s={:.0} cpu_s={cpu:.3} normalise_dedup_items_per_cpu_s={:.0} indexed={} index_bytes={} index_bytes_per_article={:.0} late={}",
                this.slots.len(),
                parse_time.as_secs_f64(),
                this.normalise_time.as_secs_f64(),
                this.dedup_time.as_secs_f64(),
                this.slots.len() as f64 / work.max(1e-9),
                this.slots.len() as f64 / cpu.max(1e-9),
                this.indexed,
                this.index_bytes,
                this.index_bytes as f64 / this.indexed.max(1) as f64,
                this.late,
            );
        }
        pass = Some(this);
    }
    let Pass {
        slots,
        articles,
        late,
        ..
    } = pass.expect("at least one pass (clap checks --passes >= 1)");
    if late > 0 {
        // Stderr: stdout is the verdicts, one JSON line per item.
        eprintln!(
            "warning: {late} items were more than allowed_lateness ({}) older than the newest article before them: their verdicts may depend on --batch; WIRESTREAM_WORKER__DEDUP__ALLOWED_LATENESS set to the input's span of time makes them not (docs/dedup.md, \"Late items and allowed lateness\")",
            humantime::format_duration(dedup_config.allowed_lateness),
        );
    }
    for slot in &slots {
        let line = match slot {
            Slot::Article(i) => {
                let a = &articles[*i];
                Line {
                    uri: &a.uri,
                    verdict: a.verdict.as_str(),
                    duplicate_of: a.duplicate_of.as_deref(),
                    similarity: a.similarity,
                    reason: None,
                }
            }
            Slot::Refused { uri, reason } => Line {
                uri,
                verdict: "dead_letter",
                duplicate_of: None,
                similarity: None,
                reason: Some(reason),
            },
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Normalises every parsed item and decides the articles in batches of
/// `batch`, on a memory ledger of their own.
async fn decide(
    parsed: &[Result<RawItem, ParseError>],
    now: DateTime<Utc>,
    dedup_config: &wirestream_dedup::DedupConfig,
    batch: usize,
) -> anyhow::Result<Pass> {
    let cpu_started = process_cpu_time()?;
    let started = Instant::now();
    let mut slots = Vec::with_capacity(parsed.len());
    let mut articles: Vec<Article> = Vec::with_capacity(parsed.len());
    for result in parsed {
        let slot = match result {
            Ok(raw) => match wirestream_normalize::normalize(raw, now) {
                Ok(article) => {
                    articles.push(article);
                    Slot::Article(articles.len() - 1)
                }
                Err(error) => Slot::Refused {
                    uri: raw.uri.clone(),
                    reason: error.reason().to_owned(),
                },
            },
            Err(error) => Slot::Refused {
                uri: String::new(),
                reason: error.kind.code().to_owned(),
            },
        };
        slots.push(slot);
    }
    let normalise_time = started.elapsed();
    let started = Instant::now();
    // Every article may be indexed: sizing the index for that up front
    // spares its growth.
    let ledger = MemoryLedger::with_capacity(articles.len(), dedup_config.max_keys_per_article());
    let mut dedup = Deduplicator::with_config(ledger, dedup_config.clone());
    for chunk in articles.chunks_mut(batch.max(1)) {
        dedup.decide(chunk).await?;
    }
    let dedup_time = started.elapsed();
    let cpu_time = process_cpu_time()?.saturating_sub(cpu_started);
    Ok(Pass {
        slots,
        normalise_time,
        dedup_time,
        cpu_time,
        late: dedup.late(),
        indexed: dedup.ledger().indexed(),
        index_bytes: dedup.ledger().index_bytes(),
        articles,
    })
}

/// CPU time used by this process so far (`CLOCK_PROCESS_CPUTIME_ID`, user
/// and system, every thread).
fn process_cpu_time() -> anyhow::Result<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    if read != 0 {
        anyhow::bail!(
            "failed to read the process CPU clock: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    ))
}
