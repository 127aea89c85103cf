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

/// Items accounted for, the cheap way: while a run is being measured this is
/// asked again and again, and the full [`count`] (two scans of `articles`
/// and a sort) every second was a fifth of PostgreSQL's CPU in `make bench`.
async fn accounted(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM dead_letters)",
    )
    .fetch_one(pool)
    .await
    .context("failed to count articles and dead letters")
}

/// The pause before the next count: half the time the remaining items should
/// take at the rate seen since the last count, between one and five seconds.
fn next_poll(remaining: i64, done_since: i64, since: Duration) -> Duration {
    let (min, max) = (Duration::from_secs(1), Duration::from_secs(5));
    if done_since <= 0 {
        return max;
    }
    let eta = since.as_secs_f64() * remaining.max(0) as f64 / done_since as f64;
    Duration::from_secs_f64(eta / 2.0).clamp(min, max)
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let pool =
        wirestream_store::connect_lazy(&config.database.url, 1, config.database.connect_timeout)?;
    let started = Instant::now();
    if let Some(expect) = args.expect {
        let (mut done, mut at) = (accounted(&pool).await?, Instant::now());
        let mut pause = Duration::from_secs(1);
        while done < expect {
            if started.elapsed() > Duration::from_secs(args.timeout) {
                eprintln!("timed out: {done} of {expect} items accounted for");
                print(&count(&pool).await?);
                return Ok(ExitCode::FAILURE);
            }
            eprintln!("waiting: {done} of {expect} items accounted for");
            tokio::time::sleep(pause).await;
            // PostgreSQL may be restarting under a long wait: keep waiting
            // (until the timeout) rather than give up on one failed count.
            let now = match accounted(&pool).await {
                Ok(now) => now,
                Err(error) => {
                    eprintln!("warning: {error:#}; retrying");
                    pause = Duration::from_secs(1);
                    continue;
                }
            };
            pause = next_poll(expect - now, now - done, at.elapsed());
            (done, at) = (now, Instant::now());
        }
    }
    print(&count(&pool).await?);
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

#[cfg(test)]
mod tests {
    use super::next_poll;
    use std::time::Duration;

    #[test]
    fn polls_less_often_while_the_end_is_far() {
        let second = Duration::from_secs(1);
        // 1,000 items a second, 100,000 to go: the longest pause.
        assert_eq!(next_poll(100_000, 1_000, second), Duration::from_secs(5));
        // 3 s to go: half of it.
        assert_eq!(next_poll(3_000, 1_000, second), Duration::from_millis(1500));
        // Nearly done: never below a second.
        assert_eq!(next_poll(10, 1_000, second), second);
        // Nothing moved: the longest pause.
        assert_eq!(next_poll(5_000, 0, second), Duration::from_secs(5));
    }
}
