//! `wirestream feed`: replay files into the ingest API.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use wirestream_runtime::retry::Backoff;
use wirestream_runtime::Config;

use crate::batches::{Batches, Piece};
use crate::ingest_client::Target;
use crate::input::{self, Input, Opened};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders; `-` reads stdin. `.gz` files are decompressed.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    target: Target,
    /// NDJSON lines sent per request (fewer when more would pass ingest's `max_body_bytes`).
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

/// How inputs are cut into requests.
#[derive(Clone, Copy)]
struct Limits {
    /// Lines a batch holds at most (`--batch`).
    batch: usize,
    /// Bytes a request body (so a batch, or one line) holds at most: ingest's `max_body_bytes`.
    max_body: usize,
    /// Bytes a document read whole may have.
    max_document: u64,
}

/// What the reading thread hands to the sender, in file order.
enum Work {
    Send(Request),
    /// An item refused without being sent (a line longer than a request may be).
    Refuse(Outcome),
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let base = args.target.base(config);
    let client = args.target.client(config, Duration::from_secs(120))?;
    let files = input::expand(&args.paths)?;
    let limits = Limits {
        batch: args.batch.max(1),
        max_body: config.ingest.max_body_bytes,
        max_document: config.ingest.max_body_bytes as u64 * 64,
    };
    let concurrency = args.concurrency.max(1);

    // Files are read (blocking I/O, gzip) on a thread of their own that hands
    // over one request at a time and waits while the sender is busy: memory
    // holds the requests in flight and one or two more, whatever the input size.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let reading = tokio::task::spawn_blocking(move || read_requests(&files, limits, &tx));
    let bar = progress(args.quiet);

    let started = Instant::now();
    let mut summary = Summary::default();
    let mut sent = 0usize;
    let mut in_flight = inflight::Pending::default();
    while let Some(work) = rx.recv().await {
        match work {
            Work::Send(request) => {
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
            }
            // Queued like a request, so that it is reported in file order.
            Work::Refuse(outcome) => in_flight.push(tokio::spawn(std::future::ready(outcome))),
        }
        while in_flight.len() >= concurrency {
            in_flight.settle_one(&mut summary, &bar).await;
        }
    }
    let read = reading
        .await
        .context("the reading thread failed")
        .and_then(|read| read);
    while !in_flight.is_empty() {
        in_flight.settle_one(&mut summary, &bar).await;
    }
    bar.finish_and_clear();

    // A file that could not be read stops the feed; the summary says what
    // was sent before it (nothing to say when nothing was).
    if read.is_ok() || sent > 0 || !summary.failures.is_empty() {
        print_summary(&summary, started.elapsed());
    }
    read?;
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_summary(summary: &Summary, elapsed: Duration) {
    let elapsed = elapsed.as_secs_f64().max(1e-9);
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
}

fn progress(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    // The total is not known while the input is still being read.
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} items  {per_sec}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Reads the files in order and hands over their requests; stops early when
/// the receiving side is gone.
fn read_requests(
    files: &[PathBuf],
    limits: Limits,
    tx: &tokio::sync::mpsc::Sender<Work>,
) -> anyhow::Result<()> {
    for path in files {
        for work in requests(input::open(path)?, limits) {
            if tx.blocking_send(work?).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The requests of one input: NDJSON in batches as it is read, anything else
/// as one document.
fn requests(opened: Opened, limits: Limits) -> Box<dyn Iterator<Item = anyhow::Result<Work>>> {
    if !opened.is_ndjson() {
        let document = opened
            .read_whole(limits.max_document)
            .map(|input| Work::Send(document_request(input)));
        return Box::new(std::iter::once(document));
    }
    let file = opened.name.clone();
    let batches = Batches::new(opened.into_reader(), limits.batch, limits.max_body);
    Box::new(batches.map(move |piece| {
        let piece = piece.with_context(|| format!("failed to read {file}"))?;
        Ok(batch_work(&file, piece, limits.max_body))
    }))
}

/// A batch becomes a request; a line too long for one, a rejection at its place.
fn batch_work(file: &str, piece: Piece, max_body: usize) -> Work {
    match piece {
        Piece::Batch { body, lines } => Work::Send(batch_request(file, body, lines)),
        Piece::TooLong { line, bytes } => Work::Refuse(Outcome::rejected(
            1,
            format!(
                "{file}:{line}: too_large: the line has {bytes} bytes, more than \
                 a request may have (ingest.max_body_bytes = {max_body}); not sent"
            ),
        )),
    }
}

fn document_request(input: Input) -> Request {
    Request {
        what: input.name.clone(),
        file: input.name.clone(),
        path: "/v1/articles",
        content_type: input.content_type(),
        body: input.bytes,
        items: 1,
        lines: Vec::new(),
    }
}

/// A batch of NDJSON lines (joined by `\n`) and their line numbers in `file`.
fn batch_request(file: &str, body: Vec<u8>, lines: Vec<usize>) -> Request {
    Request {
        what: format!(
            "{file} (lines {}..={})",
            lines.first().unwrap_or(&0),
            lines.last().unwrap_or(&0)
        ),
        file: file.to_owned(),
        path: "/v1/articles:batch",
        content_type: "application/x-ndjson",
        body,
        items: lines.len(),
        lines,
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
    let body = good
        .iter()
        .map(|(_, l)| *l)
        .collect::<Vec<_>>()
        .join(&b'\n');
    let retry = batch_request(&request.file, body, good.iter().map(|(n, _)| *n).collect());
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
    let mut backoff = Backoff::between(Duration::from_millis(200), Duration::from_secs(5));
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
        tokio::time::sleep(retry_after.unwrap_or_else(|| backoff.next_pause())).await;
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

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read, Write as _};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::batches::tests::Endless;

    const LIMITS: Limits = Limits {
        batch: 2,
        max_body: 64,
        max_document: 1024,
    };

    /// A reader that counts the bytes taken from it.
    struct Counted(Cursor<Vec<u8>>, Arc<AtomicUsize>);

    impl Read for Counted {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(out)?;
            self.1.fetch_add(n, Ordering::SeqCst);
            Ok(n)
        }
    }

    fn open(name: &str, source: impl Read + Send + 'static) -> Opened {
        input::open_reader(name.into(), Box::new(source)).expect("opens")
    }

    fn all(opened: Opened, limits: Limits) -> Vec<Work> {
        requests(opened, limits)
            .collect::<anyhow::Result<_>>()
            .expect("reads")
    }

    fn sent(work: &Work) -> &Request {
        match work {
            Work::Send(request) => request,
            Work::Refuse(outcome) => panic!("refused: {:?}", outcome.failures),
        }
    }

    #[test]
    fn ndjson_batches_keep_the_files_line_numbers() {
        let text = "{\"a\":1}\n{\"a\":2}\n\n{\"a\":4}\n{\"a\":5}\n{\"a\":6}\n";
        let work = all(open("wire.ndjson", Cursor::new(text)), LIMITS);
        let what: Vec<&str> = work.iter().map(|w| sent(w).what.as_str()).collect();
        assert_eq!(
            what,
            [
                "wire.ndjson (lines 1..=2)",
                "wire.ndjson (lines 4..=5)",
                "wire.ndjson (lines 6..=6)"
            ]
        );
        let second = sent(&work[1]);
        assert_eq!(second.lines, [4, 5]);
        assert_eq!(second.items, 2);
        assert_eq!(second.body, b"{\"a\":4}\n{\"a\":5}");
        assert_eq!(second.path, "/v1/articles:batch");
    }

    #[test]
    fn stdin_that_never_ends_is_sent_as_it_comes() {
        let endless = Endless::new();
        let made = endless.made.clone();
        let mut work = requests(open("-", endless), LIMITS);
        for first in [1, 3, 5] {
            let Some(Ok(work)) = work.next() else {
                panic!("a request");
            };
            assert_eq!(sent(&work).lines, [first, first + 1]);
        }
        // The format was guessed from the first 64 KiB, no more.
        assert!(made.load(Ordering::SeqCst) < 64 * 1024 / 20, "{made:?}");
    }

    #[test]
    fn gzipped_ndjson_is_decompressed_as_it_is_sent() {
        // Lines that do not compress well, so that the file is much larger
        // than what the reader takes in at once.
        let mut seed = 1u64;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for n in 1..=50_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            writeln!(
                encoder,
                "{{\"uri\":\"urn:{n}\",\"r\":\"{seed:x}{:x}\"}}",
                seed >> 7
            )
            .expect("compress");
        }
        let gz = encoder.finish().expect("compress");
        let taken = Arc::new(AtomicUsize::new(0));
        let source = Counted(Cursor::new(gz.clone()), taken.clone());
        let limits = Limits {
            batch: 100,
            max_body: 1 << 20,
            ..LIMITS
        };
        let mut work = requests(open("wire.ndjson.gz", source), limits);
        let Some(Ok(first)) = work.next() else {
            panic!("a request");
        };
        assert_eq!(sent(&first).what, "wire.ndjson.gz (lines 1..=100)");
        let at_first = taken.load(Ordering::SeqCst);
        assert!(at_first < gz.len() / 4, "{at_first} of {} bytes", gz.len());
        let rest: Vec<Work> = work.collect::<anyhow::Result<_>>().expect("reads");
        assert_eq!(rest.len(), 499);
        assert_eq!(sent(&rest[498]).lines.last(), Some(&50_000));
    }

    #[test]
    fn an_over_long_line_is_refused_at_its_line() {
        let long = format!("{{\"x\":\"{}\"}}", "x".repeat(100));
        let text = format!("{{\"a\":1}}\n{{\"a\":2}}\n{{\"a\":3}}\n{long}\n{{\"a\":5}}\n");
        let work = all(open("wire.ndjson", Cursor::new(text)), LIMITS);
        assert_eq!(work.len(), 4);
        assert_eq!(sent(&work[0]).lines, [1, 2]);
        assert_eq!(sent(&work[1]).lines, [3]);
        let Work::Refuse(outcome) = &work[2] else {
            panic!("the long line is refused");
        };
        assert_eq!(outcome.rejected, 1);
        assert_eq!(
            outcome.failures,
            [
                "wire.ndjson:4: too_large: the line has 108 bytes, more than a request \
              may have (ingest.max_body_bytes = 64); not sent"
            ]
        );
        assert_eq!(sent(&work[3]).lines, [5]);
    }

    #[test]
    fn other_files_are_one_document_each() {
        let work = all(open("story.xml", Cursor::new("<a/>")), LIMITS);
        assert_eq!(work.len(), 1);
        let request = sent(&work[0]);
        assert_eq!(
            (request.path, request.content_type, request.items),
            ("/v1/articles", "application/xml", 1)
        );
        assert_eq!(request.body, b"<a/>");

        let big = "x".repeat(2000);
        let error = requests(open("big.txt", Cursor::new(big)), LIMITS)
            .find_map(Result::err)
            .expect("refused");
        assert_eq!(error.to_string(), "big.txt is more than 1024 bytes");
    }
}
