//! The end-to-end corpus: the Reuters items repeated with fresh ids until
//! there are enough of them. Only `uri` changes, so a repetition is the same
//! story re-sent under another id: the worker calls it a duplicate, exactly
//! as it would a real agency re-send, and every item still travels the whole
//! pipeline and becomes a row.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;

use anyhow::Context as _;

/// Writes at least `items` NDJSON lines to `out`; the uris of repetition `n`
/// end in `~r<n>` (`tag` marks a separate run, e.g. a latency step).
pub fn write(corpus: &Path, out: &Path, items: usize, tag: &str) -> anyhow::Result<usize> {
    let source = std::fs::File::open(corpus)
        .with_context(|| format!("failed to open {}", corpus.display()))?;
    let lines: Vec<serde_json::Value> = BufReader::new(source)
        .lines()
        .map(|line| -> anyhow::Result<serde_json::Value> {
            Ok(serde_json::from_str(
                &line.context("failed to read the corpus")?,
            )?)
        })
        .collect::<anyhow::Result<_>>()
        .context("the corpus is not NDJSON")?;
    anyhow::ensure!(!lines.is_empty(), "{} is empty", corpus.display());
    let file = std::fs::File::create(out)
        .with_context(|| format!("failed to create {}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let mut written = 0;
    let mut round = 0;
    while written < items {
        for line in &lines {
            if written == items {
                break;
            }
            let mut item = line.clone();
            if let Some(uri) = item.get("uri").and_then(|u| u.as_str()) {
                let fresh = format!("{uri}~{tag}r{round}");
                item["uri"] = serde_json::Value::String(fresh);
            }
            serde_json::to_writer(&mut writer, &item)?;
            writer.write_all(b"\n")?;
            written += 1;
        }
        round += 1;
    }
    writer.flush()?;
    Ok(written)
}
