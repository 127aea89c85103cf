//! `wirestream feed`: replay files into the ingest API.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use wirestream_runtime::Config;

use crate::input::{self, Input};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders; `-` reads stdin. `.gz` files are decompressed.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The ingest service's base URL (default: from the config's `ingest.listen`).
    #[arg(long)]
    url: Option<String>,
    /// NDJSON lines sent per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Replay as a continuous feed of at most this many items per second.
    #[arg(long)]
    rate: Option<f64>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// How long to keep retrying while the service answers 429 or 503.
    #[arg(long, default_value = "120s", value_parser = humantime_duration)]
    retry_for: Duration,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn humantime_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text}"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("not a duration: {text} (use ms, s or m)")),
    }
}

/// One request to make: a document or a batch of NDJSON lines.
struct Request {
    what: String,
    /// The file, for error lines.
    file: String,
    path: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    items: usize,
    /// For a batch: the file's 1-based line number of each line in `body`,
    /// so that the service's "line 2 of the batch" becomes "line 502 of the file".
    lines: Vec<usize>,
}

#[derive(Default)]
struct Summary {
    accepted: usize,
    rejected: usize,
    failures: Vec<String>,
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.ingest.listen));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .context("failed to build the HTTP client")?;
    let files = input::expand(&args.paths)?;
    let max_bytes = config.ingest.max_body_bytes as u64 * 64;

    let mut requests = Vec::new();
    for path in &files {
        let input = input::read(path, max_bytes)?;
        requests.extend(split(input, args.batch.max(1)));
    }
    let total: usize = requests.iter().map(|r| r.items).sum();
    let bar = progress(total as u64, args.quiet);

    let started = Instant::now();
    let mut summary = Summary::default();
    let mut sent = 0usize;
    let mut in_flight = inflight::Pending::default();
    for request in requests {
        if let Some(rate) = args.rate {
            // Pace the replay: the n-th item leaves no earlier than n / rate seconds in.
            let due = Duration::from_secs_f64(sent as f64 / rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        sent += request.items;
        let client = client.clone();
        let url = format!("{base}{}", request.path);
        let retry_for = args.retry_for;
        in_flight.push(tokio::spawn(async move {
            send(&client, &url, request, retry_for).await
        }));
        if in_flight.len() >= args.concurrency.max(1) {
            in_flight.settle_one(&mut summary, &bar).await;
        }
    }
    while !in_flight.is_empty() {
        in_flight.settle_one(&mut summary, &bar).await;
    }
    bar.finish_and_clear();

    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "{} accepted, {} rejected, {:.0} items/s over {:.1}s",
        summary.accepted,
        summary.rejected,
        summary.accepted as f64 / elapsed,
        elapsed
    );
    for failure in summary.failures.iter().take(20) {
        eprintln!("  rejected: {failure}");
    }
    if summary.failures.len() > 20 {
        eprintln!("  … and {} more", summary.failures.len() - 20);
    }
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn progress(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} items  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// NDJSON is cut into batches of whole lines; anything else is one document.
fn split(input: Input, batch: usize) -> Vec<Request> {
    if !input.is_ndjson() {
        return vec![Request {
            what: input.name.clone(),
            file: input.name.clone(),
            path: "/v1/articles",
            content_type: input.content_type(),
            body: input.bytes,
            items: 1,
            lines: Vec::new(),
        }];
    }
    let lines: Vec<(usize, &[u8])> = input
        .bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    lines
        .chunks(batch)
        .map(|chunk| batch_request(&input.name, chunk))
        .collect()
}

fn batch_request(file: &str, lines: &[(usize, &[u8])]) -> Request {
    let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
    Request {
        what: format!(
            "{file} (lines {}..={})",
            numbers.first().unwrap_or(&0),
            numbers.last().unwrap_or(&0)
        ),
        file: file.to_owned(),
        path: "/v1/articles:batch",
        content_type: "application/x-ndjson",
        body: lines
            .iter()
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join(&b'\n'),
        items: lines.len(),
        lines: numbers,
    }
}

#[derive(Default)]
struct Outcome {
    accepted: usize,
    rejected: usize,
    failures: Vec<String>,
}

impl Outcome {
    fn accepted(items: usize) -> Outcome {
        Outcome {
            accepted: items,
            ..Outcome::default()
        }
    }
    fn rejected(items: usize, why: String) -> Outcome {
        Outcome {
            rejected: items,
            failures: vec![why],
            ..Outcome::default()
        }
    }
}

/// One line the service refused in a batch (`details` of its 400 problem).
#[derive(serde::Deserialize)]
struct LineError {
    line: Option<usize>,
    column: Option<usize>,
    code: String,
    field: Option<String>,
    message: String,
}

/// Sends one request. A batch refused for some of its lines is reported
/// line by line, at the lines' places in the file, and its good lines are
/// sent again without the bad ones: a replay should not lose 499 good items
/// to one bad line.
async fn send(
    client: &reqwest::Client,
    url: &str,
    request: Request,
    retry_for: Duration,
) -> Outcome {
    let response = match send_once(client, url, &request, retry_for).await {
        Ok(()) => return Outcome::accepted(request.items),
        Err(Refused::Lines(errors)) if !request.lines.is_empty() => errors,
        Err(Refused::Lines(_)) => {
            return Outcome::rejected(request.items, format!("{}: invalid", request.what))
        }
        Err(Refused::Other(why)) => return Outcome::rejected(request.items, why),
    };
    let bad: std::collections::BTreeSet<usize> = response.iter().filter_map(|e| e.line).collect();
    let mut outcome = Outcome {
        rejected: bad.len(),
        ..Outcome::default()
    };
    for error in &response {
        let line = error
            .line
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| request.lines.get(i))
            .copied();
        let at = match (line, error.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", request.file),
            (Some(line), None) => format!("{}:{line}", request.file),
            _ => request.file.clone(),
        };
        let field = error
            .field
            .as_ref()
            .map(|f| format!("field `{f}`: "))
            .unwrap_or_default();
        outcome
            .failures
            .push(format!("{at}: {}: {field}{}", error.code, error.message));
    }
    if bad.is_empty() || bad.len() >= request.items {
        outcome.rejected = request.items;
        return outcome;
    }
    let body_lines: Vec<&[u8]> = request.body.split(|b| *b == b'\n').collect();
    let good: Vec<(usize, &[u8])> = request
        .lines
        .iter()
        .zip(body_lines)
        .enumerate()
        .filter(|(i, _)| !bad.contains(&(i + 1)))
        .map(|(_, (n, l))| (*n, l))
        .collect();
    let retry = batch_request(&request.file, &good);
    match send_once(client, url, &retry, retry_for).await {
        Ok(()) => outcome.accepted += retry.items,
        Err(Refused::Lines(_)) => {
            outcome.rejected += retry.items;
            outcome.failures.push(format!(
                "{}: refused again without the bad lines",
                retry.what
            ));
        }
        Err(Refused::Other(why)) => {
            outcome.rejected += retry.items;
            outcome.failures.push(why);
        }
    }
    outcome
}

enum Refused {
    /// A batch with bad lines (`400 invalid_batch`).
    Lines(Vec<LineError>),
    Other(String),
}

/// Sends one request, retrying while the service says "later" (429, 503).
async fn send_once(
    client: &reqwest::Client,
    url: &str,
    request: &Request,
    retry_for: Duration,
) -> Result<(), Refused> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let response = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, request.content_type)
            .body(request.body.clone())
            .send()
            .await;
        let retry_after = match response {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) if matches!(response.status().as_u16(), 429 | 503) => response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs),
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                if let Some(errors) = line_errors(&body) {
                    return Err(Refused::Lines(errors));
                }
                return Err(Refused::Other(format!("{}: {status} {body}", request.what)));
            }
            Err(error)
                if started.elapsed() < retry_for && (error.is_connect() || error.is_timeout()) =>
            {
                None
            }
            Err(error) => return Err(Refused::Other(format!("{}: {error}", request.what))),
        };
        if started.elapsed() >= retry_for {
            return Err(Refused::Other(format!(
                "{}: still refused after {retry_for:?}",
                request.what
            )));
        }
        tokio::time::sleep(retry_after.unwrap_or(pause)).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// The per-line errors of an `invalid_batch` problem.
fn line_errors(body: &str) -> Option<Vec<LineError>> {
    #[derive(serde::Deserialize)]
    struct Problem {
        error: String,
        #[serde(default)]
        details: Vec<LineError>,
    }
    let problem: Problem = serde_json::from_str(body).ok()?;
    (problem.error == "invalid_batch" && !problem.details.is_empty()).then_some(problem.details)
}

/// The requests in flight, settled in the order they were sent.
mod inflight {
    use std::collections::VecDeque;

    use indicatif::ProgressBar;
    use tokio::task::JoinHandle;

    use super::{Outcome, Summary};

    #[derive(Default)]
    pub struct Pending(VecDeque<JoinHandle<Outcome>>);

    impl Pending {
        pub fn push(&mut self, handle: JoinHandle<Outcome>) {
            self.0.push_back(handle);
        }
        pub fn len(&self) -> usize {
            self.0.len()
        }
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub async fn settle_one(&mut self, summary: &mut Summary, bar: &ProgressBar) {
            let Some(handle) = self.0.pop_front() else {
                return;
            };
            match handle.await {
                Ok(outcome) => {
                    summary.accepted += outcome.accepted;
                    summary.rejected += outcome.rejected;
                    summary.failures.extend(outcome.failures);
                    bar.inc((outcome.accepted + outcome.rejected) as u64);
                }
                Err(error) => {
                    summary
                        .failures
                        .push(format!("a request task failed: {error}"));
                }
            }
        }
    }
}
