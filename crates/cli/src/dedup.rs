//! `wirestream dedup`: the worker's normalise-and-deduplicate path on files, in memory.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use wirestream_dedup::{Deduplicator, MemoryLedger};
use wirestream_model::Article;
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
    let mut dedup = Deduplicator::new(MemoryLedger::new());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let now = chrono::Utc::now();
    let mut slots = Vec::new();
    let mut articles: Vec<Article> = Vec::new();
    for path in input::expand(&args.paths)? {
        let input = input::read(&path, config.ingest.max_body_bytes as u64 * 64)?;
        for result in parse_input(&input, config) {
            let slot = match result {
                Ok(raw) => match wirestream_normalize::normalize(&raw, now) {
                    Ok(article) => {
                        articles.push(article);
                        Slot::Article(articles.len() - 1)
                    }
                    Err(error) => Slot::Refused { uri: raw.uri, reason: error.reason().to_owned() },
                },
                Err(error) => Slot::Refused { uri: String::new(), reason: error.kind.code().to_owned() },
            };
            slots.push(slot);
        }
    }
    for chunk in articles.chunks_mut(args.batch.max(1)) {
        dedup.decide(chunk).await?;
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
