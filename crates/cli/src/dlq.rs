//! `wirestream dlq`: inspect dead letters and send them back after a fix.
//!
//! A dead letter goes back where it failed: a document the worker could not
//! make into an article goes through ingest again (the current parsers and
//! rules), a record the worker could not decode goes back on the raw topic,
//! and a row PostgreSQL refused goes back on the articles topic for the sink.
//! Every write downstream is idempotent, so a replay never doubles a story.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use wirestream_runtime::{kafka, Config};
use wirestream_store::{DeadLetterFilter, StoredDeadLetter};

use crate::ingest_client::Target;

#[derive(clap::Subcommand)]
pub enum Command {
    /// List dead letters, oldest first.
    List {
        /// Only this reason (`empty_article`, `rejected_by_database`, …).
        #[arg(long)]
        reason: Option<String>,
        /// Only the ones not replayed yet.
        #[arg(long)]
        pending: bool,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show one dead letter whole, with its original bytes.
    Show { id: i64 },
    /// Send dead letters back into the pipeline (by id, or all pending ones of a reason).
    Replay {
        ids: Vec<i64>,
        #[arg(long)]
        reason: Option<String>,
        /// Also the ones replayed before.
        #[arg(long)]
        again: bool,
        #[command(flatten)]
        target: Target,
    },
}

pub async fn run(config: &Config, command: Command) -> anyhow::Result<ExitCode> {
    let pool = wirestream_store::connect_lazy(&config.database, 2)?;
    match command {
        Command::List {
            reason,
            pending,
            limit,
        } => {
            let letters = wirestream_store::find_dead_letters(
                &pool,
                &DeadLetterFilter {
                    reason,
                    pending,
                    limit,
                    ..Default::default()
                },
            )
            .await
            .context("failed to read dead letters")?;
            println!(
                "{:>8}  {:<20}  {:<6}  {:<22}  {:<8}  detail",
                "id", "failed_at", "stage", "reason", "replayed"
            );
            for l in &letters {
                let detail: String = l.detail.chars().take(80).collect();
                println!(
                    "{:>8}  {:<20}  {:<6}  {:<22}  {:<8}  {detail}",
                    l.id,
                    l.failed_at.format("%Y-%m-%d %H:%M:%S"),
                    l.stage,
                    l.reason,
                    if l.replayed_at.is_some() { "yes" } else { "no" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id } => {
            let filter = DeadLetterFilter {
                ids: vec![id],
                limit: 1,
                ..Default::default()
            };
            let Some(l) = wirestream_store::find_dead_letters(&pool, &filter)
                .await?
                .into_iter()
                .next()
            else {
                eprintln!("no dead letter {id}");
                return Ok(ExitCode::FAILURE);
            };
            let shown = serde_json::json!({
                "id": l.id, "origin": l.origin, "stage": l.stage, "reason": l.reason, "detail": l.detail,
                "item_key": l.item_key, "source": l.source, "failed_at": l.failed_at, "replayed_at": l.replayed_at,
                "original": String::from_utf8_lossy(&l.original_bytes()),
            });
            println!("{}", serde_json::to_string_pretty(&shown)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            ids,
            reason,
            again,
            target,
        } => {
            let filter = DeadLetterFilter {
                ids,
                reason,
                pending: !again,
                limit: i64::MAX,
            };
            let letters = wirestream_store::find_dead_letters(&pool, &filter).await?;
            if letters.is_empty() {
                println!("nothing to replay");
                return Ok(ExitCode::SUCCESS);
            }
            let producer = kafka::producer(&config.kafka)?;
            let client = target.client(config, Duration::from_secs(60))?;
            let base = target.base(config);
            let mut replayed = Vec::new();
            let mut failed = 0usize;
            for letter in &letters {
                match replay(config, &producer, &client, &base, letter).await {
                    Ok(route) => {
                        println!("{}: replayed to {route}", letter.id);
                        replayed.push(letter.id);
                    }
                    Err(error) => {
                        failed += 1;
                        eprintln!("{}: not replayed: {error:#}", letter.id);
                    }
                }
            }
            wirestream_store::mark_replayed(&pool, &replayed).await?;
            println!("{} replayed, {failed} failed", replayed.len());
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// Sends one dead letter back to where it failed; returns where it went.
async fn replay(
    config: &Config,
    producer: &FutureProducer,
    client: &reqwest::Client,
    base: &str,
    letter: &StoredDeadLetter,
) -> anyhow::Result<String> {
    let bytes = letter.original_bytes();
    let key = letter
        .item_key
        .clone()
        .unwrap_or_else(|| letter.origin.clone());
    let topic = match (letter.stage.as_str(), letter.reason.as_str()) {
        ("worker", "invalid_raw_item") => &config.kafka.raw_topic,
        ("sink", _) => &config.kafka.articles_topic,
        _ => {
            let response = client
                .post(format!("{base}/v1/articles"))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(bytes)
                .send()
                .await
                .context("failed to reach ingest")?;
            let status = response.status();
            anyhow::ensure!(
                status.is_success(),
                "ingest answered {status}: {}",
                response.text().await.unwrap_or_default()
            );
            return Ok("ingest".into());
        }
    };
    producer
        .send(
            FutureRecord::to(topic).key(&key).payload(&bytes),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(error, _)| anyhow::anyhow!("the broker refused the record: {error}"))?;
    Ok(topic.clone())
}
