//! The spool folder: agencies drop files (FTP, rsync, cp) and each complete
//! file is parsed, published, and moved to `done/` once the broker has
//! acknowledged every item in it, or to `failed/` beside a `<name>.error`
//! file when it cannot be parsed.
//!
//! The folder is polled rather than watched with inotify: polling works the
//! same on every filesystem (NFS, bind mounts) and a scan of a spool folder
//! is cheap. A file is complete when its size and mtime have not changed for
//! `settle` (uploaders that rename into place can set `settle = "0s"`);
//! names starting with `.` or ending in `.tmp` or `.part` are uploads in
//! progress and are never read.
//!
//! Delivery: a file leaves the folder only after every item is
//! acknowledged, so a broker outage or a crash leaves it in place to be sent
//! again (at least once; the worker recognises replays). A file in `done/`
//! is never read again, so a restart does not re-send a finished file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use wirestream_formats::{parse_document, parse_ndjson, Context, Hint, Limits, ParseError};
use wirestream_model::{validate, RawItem};
use wirestream_runtime::config::IngestSpoolConfig;
use wirestream_runtime::ops::Readiness;
use wirestream_runtime::retry::Backoff;

use crate::metrics;
use crate::publisher::Publisher;

/// Items published per call, so that a large file stays under `max_in_flight`.
const CHUNK: usize = 1000;
/// The longest pause between scans while the broker is down.
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// Errors written to a `.error` file, at most.
const MAX_REPORTED_ERRORS: usize = 1000;

pub struct Spool {
    dir: PathBuf,
    source: String,
    settle: Duration,
    poll_interval: Duration,
    max_file_bytes: usize,
    limits: Limits,
    default_provider: Option<String>,
    publisher: Publisher,
    readiness: Readiness,
}

/// What became of one file.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done(usize),
    Failed,
    /// The broker did not take the items; the file stays for the next scan.
    Retry,
}

/// The size and mtime of a file when it was last seen to change.
struct Seen {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

impl Spool {
    pub fn new(
        config: &IngestSpoolConfig,
        dir: PathBuf,
        limits: Limits,
        default_provider: Option<String>,
        publisher: Publisher,
        readiness: Readiness,
    ) -> anyhow::Result<Spool> {
        for sub in ["done", "failed"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("failed to create {}", path.display()))?;
        }
        Ok(Spool {
            source: format!("spool:{}", dir.display()),
            dir,
            settle: config.settle,
            poll_interval: config.poll_interval,
            max_file_bytes: config.max_file_bytes,
            limits,
            default_provider,
            publisher,
            readiness,
        })
    }

    /// Scans until `shutdown` fires. A file being published when it fires
    /// is finished or left in place, never half-moved.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(dir = %self.dir.display(), settle = ?self.settle, "watching the spool folder");
        let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
        // Back off while the broker is away, rather than re-reading every file each second.
        let mut backoff =
            Backoff::between(self.poll_interval * 2, MAX_PAUSE.max(self.poll_interval));
        loop {
            let broker_trouble = match self.scan(&mut seen, &shutdown).await {
                Ok(trouble) => trouble,
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), dir = %self.dir.display(), "spool scan failed");
                    true
                }
            };
            let pause = if broker_trouble {
                backoff.next_pause()
            } else {
                backoff.reset();
                self.poll_interval
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(dir = %self.dir.display(), "spool folder no longer watched");
    }

    /// One pass over the folder. Returns whether the broker refused items.
    async fn scan(
        &self,
        seen: &mut HashMap<PathBuf, Seen>,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let ready = self.ready_files(seen)?;
        for path in ready {
            if shutdown.is_cancelled() {
                break;
            }
            seen.remove(&path);
            match self.handle(&path).await {
                Ok(Outcome::Retry) => {
                    metrics::spool_file(&self.source, "retry");
                    return Ok(true);
                }
                Ok(Outcome::Done(items)) => {
                    metrics::spool_file(&self.source, "done");
                    tracing::info!(file = %path.display(), items, "spool file published");
                }
                Ok(Outcome::Failed) => metrics::spool_file(&self.source, "failed"),
                Err(error) => {
                    // The file stays; the next scan tries it again.
                    tracing::warn!(error = format!("{error:#}"), file = %path.display(), "spool file not handled");
                }
            }
        }
        Ok(false)
    }

    /// The files that are complete, oldest name first.
    fn ready_files(&self, seen: &mut HashMap<PathBuf, Seen>) -> anyhow::Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(&self.dir)
            .with_context(|| format!("failed to list {}", self.dir.display()))?;
        let now = Instant::now();
        let mut present = Vec::new();
        let mut ready = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("failed to list {}", self.dir.display()))?;
            let name = entry.file_name();
            if is_in_progress(&name.to_string_lossy()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let path = entry.path();
            present.push(path.clone());
            let (size, mtime) = (meta.len(), meta.modified().ok());
            let stable_for = match seen.get(&path) {
                Some(s) if s.size == size && s.mtime == mtime => now.duration_since(s.since),
                _ => {
                    seen.insert(
                        path.clone(),
                        Seen {
                            size,
                            mtime,
                            since: now,
                        },
                    );
                    Duration::ZERO
                }
            };
            // A file last written longer than `settle` ago is complete even
            // when this process first sees it now (after a restart, say).
            let untouched_for = mtime
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or_default();
            if stable_for >= self.settle || untouched_for >= self.settle {
                ready.push(path);
            }
        }
        seen.retain(|path, _| present.contains(path));
        ready.sort();
        Ok(ready)
    }

    async fn handle(&self, path: &Path) -> anyhow::Result<Outcome> {
        let name = file_name(path);
        let raw = tokio::fs::read(path)
            .await
            .with_context(|| format!("failed to read {}", path.display()))?;
        let ctx = self.context();
        let max_file_bytes = self.max_file_bytes;
        let parse_name = name.clone();
        // Parsing a large file is CPU work: keep it off the async workers.
        let parsed = tokio::task::spawn_blocking(move || {
            parse_file(&parse_name, &raw, max_file_bytes, &ctx)
        })
        .await
        .context("the parser task failed")?;
        let items = match parsed {
            Ok(items) => items,
            Err(errors) => {
                metrics::rejected(&self.source, "spool_file", 1);
                self.fail(path, &name, &errors)?;
                return Ok(Outcome::Failed);
            }
        };
        if !self.readiness.is_ready() {
            return Ok(Outcome::Retry);
        }
        let format = items
            .first()
            .map(|i| i.format.as_str())
            .unwrap_or("unknown");
        metrics::received(&self.source, format, items.len());
        let mut sent = 0;
        for chunk in items.chunks(CHUNK) {
            if let Err(error) = self.publisher.publish(chunk).await {
                if error.is_permanent() {
                    // Sending it again cannot help: the file goes to failed/
                    // rather than being tried forever.
                    metrics::rejected(&self.source, "spool_file", 1);
                    let why = format!(
                        "{error} (in the chunk of items from {}; the items before that chunk were sent)",
                        sent + 1
                    );
                    self.fail(path, &name, &[why])?;
                    return Ok(Outcome::Failed);
                }
                tracing::warn!(%error, file = %path.display(), "broker refused spool items; the file stays");
                return Ok(Outcome::Retry);
            }
            sent += chunk.len();
        }
        let target = free_name(&self.dir.join("done"), &name);
        std::fs::rename(path, &target).with_context(|| {
            format!("failed to move {} to {}", path.display(), target.display())
        })?;
        Ok(Outcome::Done(items.len()))
    }

    fn context(&self) -> Context {
        let mut ctx = Context::new(self.source.clone());
        ctx.limits = self.limits;
        ctx.default_provider = self.default_provider.clone();
        ctx
    }

    /// Moves the file to `failed/` with its errors in `<name>.error` beside it.
    fn fail(&self, path: &Path, name: &str, errors: &[String]) -> anyhow::Result<()> {
        let target = free_name(&self.dir.join("failed"), name);
        let mut report = errors
            .iter()
            .take(MAX_REPORTED_ERRORS)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        if errors.len() > MAX_REPORTED_ERRORS {
            report.push_str(&format!(
                "\n… and {} more errors",
                errors.len() - MAX_REPORTED_ERRORS
            ));
        }
        report.push('\n');
        let error_file = target.with_file_name(format!("{}.error", file_name(&target)));
        // The report is written first: a crash in between leaves the file in
        // the spool, to fail again, rather than a failed file without a reason.
        std::fs::write(&error_file, report)
            .with_context(|| format!("failed to write {}", error_file.display()))?;
        std::fs::rename(path, &target).with_context(|| {
            format!("failed to move {} to {}", path.display(), target.display())
        })?;
        tracing::warn!(file = %path.display(), errors = errors.len(), first = %errors.first().map(String::as_str).unwrap_or(""), "spool file cannot be sent; moved to failed/");
        Ok(())
    }
}

/// Upload temporaries and hidden files.
fn is_in_progress(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `dir/name`, or `dir/<timestamp>-name` when a file of that name is there already.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let plain = dir.join(name);
    if !plain.exists() {
        return plain;
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
    dir.join(format!("{stamp}-{name}"))
}

/// Parses a whole file with the API's parsers: NDJSON line by line (every
/// bad line is reported, and one bad line fails the file, as it does a
/// batch), anything else as one document. Errors are the `.error` lines.
/// An item PostgreSQL or Kafka cannot take fails the file too, as the API
/// refuses it with a `400`: the same rules (`wirestream_model::validate`).
fn parse_file(
    name: &str,
    raw: &[u8],
    max_bytes: usize,
    ctx: &Context,
) -> Result<Vec<RawItem>, Vec<String>> {
    let items = parse_items(name, raw, max_bytes, ctx)?;
    let errors: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(n, item)| {
            validate::check(item)
                .err()
                .map(|e| format!("invalid_field: item {}: {e}", n + 1))
        })
        .collect();
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

fn parse_items(
    name: &str,
    raw: &[u8],
    max_bytes: usize,
    ctx: &Context,
) -> Result<Vec<RawItem>, Vec<String>> {
    if raw.len() > max_bytes {
        return Err(vec![format!(
            "the file is {} bytes, more than the {max_bytes} allowed",
            raw.len()
        )]);
    }
    let (plain, bytes) = match name.strip_suffix(".gz") {
        Some(plain) => match crate::body::gunzip(raw, max_bytes) {
            Ok(bytes) => (plain, bytes),
            Err(error) => return Err(vec![error.to_string()]),
        },
        None => (name, raw.to_vec()),
    };
    let describe = |e: &ParseError| format!("{}: {e}", e.code());
    if plain.ends_with(".ndjson") || plain.ends_with(".jsonl") {
        let results = parse_ndjson(&bytes, ctx);
        let errors: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(describe)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let items: Vec<RawItem> = results.into_iter().filter_map(Result::ok).collect();
        if items.is_empty() {
            return Err(vec!["empty: the file holds no items".into()]);
        }
        return Ok(items);
    }
    // The per-document size limit is the API's; a spool file may be larger
    // only as NDJSON, where the limit applies to each line.
    parse_document(&bytes, hint_for(plain), ctx).map_err(|e| vec![describe(&e)])
}

fn hint_for(name: &str) -> Hint {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Hint::Json
    } else if lower.ends_with(".xml") || lower.ends_with(".rss") || lower.ends_with(".atom") {
        Hint::Xml { charset: None }
    } else if lower.ends_with(".txt") {
        Hint::Text { charset: None }
    } else {
        Hint::Auto
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_temporaries_are_ignored() {
        for name in [".x.xml", "a.xml.tmp", "b.ndjson.part", ".rsync-abc"] {
            assert!(is_in_progress(name), "{name}");
        }
        for name in ["a.xml", "b.ndjson.gz", "c.txt"] {
            assert!(!is_in_progress(name), "{name}");
        }
    }

    #[test]
    fn ndjson_files_report_every_bad_line() {
        let ctx = Context::new("spool:/x");
        let file = b"{\"uri\":\"a\",\"headlines\":[{\"role\":\"main\",\"value\":\"A\"}]}\n{broken\n\n{\"uri\":\n";
        let errors = parse_file("x.ndjson", file, 1 << 20, &ctx).expect_err("two bad lines");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("invalid_json: line 2"), "{errors:?}");
        assert!(errors[1].contains("line 4"), "{errors:?}");
        let good = b"{\"uri\":\"a\",\"headlines\":[{\"role\":\"main\",\"value\":\"A\"}]}\n";
        let items = parse_file("x.ndjson", good, 1 << 20, &ctx).expect("parses");
        assert_eq!(items[0].source, "spool:/x");
    }

    #[test]
    fn an_item_that_cannot_be_stored_fails_the_file() {
        let ctx = Context::new("spool:/x");
        let file = b"{\"uri\":\"a\",\"headlines\":[{\"role\":\"main\",\"value\":\"A\"}]}\n{\"uri\":\"b\\u0007\",\"headlines\":[{\"role\":\"main\",\"value\":\"B\"}]}\n";
        let errors = parse_file("x.ndjson", file, 1 << 20, &ctx).expect_err("item 2 is invalid");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("invalid_field: item 2: field `uri`"),
            "{errors:?}"
        );
    }

    #[test]
    fn oversized_and_gzip_files() {
        let ctx = Context::new("spool:/x");
        assert!(parse_file("big.txt", &[b'a'; 100], 10, &ctx).is_err());
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let text = format!("HEADLINE\n\n{}", "Some body text here. ".repeat(50));
        std::io::Write::write_all(&mut encoder, text.as_bytes()).expect("compress");
        let gz = encoder.finish().expect("compress");
        assert!(gz.len() < 200 && text.len() > 200);
        let items = parse_file("story.txt.gz", &gz, 1 << 20, &ctx).expect("parses");
        assert_eq!(items[0].format.as_str(), "text");
        let bomb_error =
            parse_file("story.txt.gz", &gz, 200, &ctx).expect_err("too big once inflated");
        assert!(bomb_error[0].contains("decompresses"), "{bomb_error:?}");
    }
}
