//! `wirestream report`: what Postgres holds, per outcome.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use wirestream_runtime::Config;
use wirestream_store::report::{accounted, outcomes, Outcomes};

use crate::top::{lag_of, service_url};

#[derive(clap::Args)]
pub struct Args {
    /// Wait until this many items are accounted for (stored or dead-lettered).
    #[arg(long)]
    expect: Option<i64>,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Count only what was stored at or after this time (RFC 3339), e.g. one run's items.
    #[arg(long)]
    since: Option<DateTime<Utc>>,
    /// While waiting, also stop when the worker and the sink have nothing left to
    /// consume (their consumer lag, from `/metrics`, stays 0): copies of stored
    /// items change no row, so a second run of the same corpus never reaches `--expect`.
    #[arg(long)]
    until_drained: bool,
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
    let pool = wirestream_store::connect_lazy(&config.database, 1)?;
    if let Some(expect) = args.expect {
        if !wait(config, &pool, &args, expect).await? {
            print(&outcomes(&pool, args.since).await?, args.since);
            return Ok(ExitCode::FAILURE);
        }
    }
    print(&outcomes(&pool, args.since).await?, args.since);
    Ok(ExitCode::SUCCESS)
}

/// Waits until `expect` items are accounted for (or the pipeline drained,
/// with `--until-drained`), showing a progress bar with rate and ETA on a
/// terminal and a line every few seconds elsewhere. False on timeout.
async fn wait(
    config: &Config,
    pool: &sqlx::PgPool,
    args: &Args,
    expect: i64,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    let bar = progress_bar(expect);
    let (mut done, mut at) = (accounted(pool, args.since).await?, Instant::now());
    let mut pause = Duration::from_secs(1);
    let mut drained_since: Option<(Instant, i64)> = None;
    let mut last_line = Instant::now();
    loop {
        bar.set_position(done.clamp(0, expect) as u64);
        if done >= expect {
            bar.finish();
            return Ok(true);
        }
        if started.elapsed() > Duration::from_secs(args.timeout) {
            bar.abandon();
            eprintln!("timed out: {done} of {expect} items accounted for");
            return Ok(false);
        }
        if bar.is_hidden() && last_line.elapsed() >= Duration::from_secs(5) {
            eprintln!("waiting: {done} of {expect} items accounted for");
            last_line = Instant::now();
        }
        if args.until_drained {
            // The lag gauges are refreshed every 5 s: drained means 0 in two
            // looks over 6 s apart with nothing stored in between.
            if drained(config).await {
                match drained_since {
                    Some((when, then))
                        if then == done && when.elapsed() > Duration::from_secs(6) =>
                    {
                        bar.finish();
                        eprintln!("drained: nothing left to consume ({done} items stored or dead-lettered)");
                        return Ok(true);
                    }
                    Some((_, then)) if then == done => {}
                    _ => drained_since = Some((Instant::now(), done)),
                }
            } else {
                drained_since = None;
            }
        }
        tokio::time::sleep(pause).await;
        // PostgreSQL may be restarting under a long wait: keep waiting
        // (until the timeout) rather than give up on one failed count.
        let now = match accounted(pool, args.since).await {
            Ok(now) => now,
            Err(error) => {
                bar.suspend(|| eprintln!("warning: {error:#}; retrying"));
                pause = Duration::from_secs(1);
                continue;
            }
        };
        pause = next_poll(expect - now, now - done, at.elapsed());
        if args.until_drained {
            pause = pause.min(Duration::from_secs(2));
        }
        (done, at) = (now, Instant::now());
    }
}

fn progress_bar(expect: i64) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(expect.max(0) as u64)
    } else {
        ProgressBar::hidden()
    };
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} items  {per_sec}  ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// True when the worker and the sink both answer and report no lag.
async fn drained(config: &Config) -> bool {
    let urls = [
        service_url(config.worker.listen),
        service_url(config.sink.listen),
    ];
    let (worker, sink) = tokio::join!(lag_of(&urls[0]), lag_of(&urls[1]));
    worker == Some(0.0) && sink == Some(0.0)
}

fn print(counts: &Outcomes, since: Option<DateTime<Utc>>) {
    match since {
        Some(since) => println!(
            "items accounted for since {}: {}",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            counts.accounted()
        ),
        None => println!("items accounted for: {}", counts.accounted()),
    }
    for (verdict, n) in &counts.by_verdict {
        println!("  {verdict:<12} {n}");
    }
    println!("  {:<12} {}", "dead-letter", counts.dead_letters);
    if counts.seconds > 0.0 {
        println!(
            "throughput: {:.0} articles/s ({} rows from first receipt to last commit in {:.1}s)",
            counts.articles() as f64 / counts.seconds,
            counts.articles(),
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
