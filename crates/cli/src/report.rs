//! `wirestream report`: what Postgres holds, per outcome.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::Row as _;
use wirestream_runtime::Config;

#[derive(clap::Args)]
pub struct Args {
    /// Wait until this many items are accounted for (stored or dead-lettered).
    #[arg(long)]
    expect: Option<i64>,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

struct Counts {
    by_verdict: Vec<(String, i64)>,
    dead_letters: i64,
    seconds: f64,
}

impl Counts {
    fn accounted(&self) -> i64 {
        self.by_verdict.iter().map(|(_, n)| n).sum::<i64>() + self.dead_letters
    }
}

async fn count(pool: &sqlx::PgPool) -> anyhow::Result<Counts> {
    let rows =
        sqlx::query("SELECT verdict, count(*) FROM articles GROUP BY verdict ORDER BY verdict")
            .fetch_all(pool)
            .await
            .context("failed to count articles")?;
    let by_verdict = rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect();
    let dead_letters: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(pool)
        .await
        .context("failed to count dead letters")?;
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(stored_at) - min(received_at))::float8 FROM articles",
    )
    .fetch_one(pool)
    .await
    .context("failed to read timestamps")?;
    Ok(Counts {
        by_verdict,
        dead_letters,
        seconds: seconds.unwrap_or(0.0),
    })
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let pool =
        wirestream_store::connect_lazy(&config.database.url, 1, config.database.connect_timeout)?;
    let started = Instant::now();
    let mut counts = count(&pool).await?;
    if let Some(expect) = args.expect {
        let mut last = -1;
        while counts.accounted() < expect {
            if started.elapsed() > Duration::from_secs(args.timeout) {
                eprintln!(
                    "timed out: {} of {expect} items accounted for",
                    counts.accounted()
                );
                print(&counts);
                return Ok(ExitCode::FAILURE);
            }
            if counts.accounted() != last {
                eprintln!(
                    "waiting: {} of {expect} items accounted for",
                    counts.accounted()
                );
                last = counts.accounted();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            counts = count(&pool).await?;
        }
    }
    print(&counts);
    Ok(ExitCode::SUCCESS)
}

fn print(counts: &Counts) {
    let stored: i64 = counts.by_verdict.iter().map(|(_, n)| n).sum();
    println!("items accounted for: {}", counts.accounted());
    for (verdict, n) in &counts.by_verdict {
        println!("  {verdict:<12} {n}");
    }
    println!("  {:<12} {}", "dead-letter", counts.dead_letters);
    if counts.seconds > 0.0 {
        println!(
            "throughput: {:.0} articles/s ({stored} rows from first receipt to last commit in {:.1}s)",
            stored as f64 / counts.seconds,
            counts.seconds
        );
    }
}
