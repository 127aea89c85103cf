//! Reading the files the commands are given: folders, `-` for stdin, `.gz`.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One input document: where it came from and its (decompressed) bytes.
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Input {
    /// The name without a trailing `.gz`, for guessing the format.
    pub fn plain_name(&self) -> &str {
        self.name.strip_suffix(".gz").unwrap_or(&self.name)
    }

    /// NDJSON files (and stdin that looks like it) are sent in batches.
    pub fn is_ndjson(&self) -> bool {
        let name = self.plain_name();
        if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
            return true;
        }
        // A JSON document on several lines, each a complete object, is NDJSON.
        let text = String::from_utf8_lossy(&self.bytes[..self.bytes.len().min(64 * 1024)]);
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        match (lines.next(), lines.next()) {
            (Some(a), Some(b)) => is_object_line(a) && is_object_line(b),
            _ => false,
        }
    }

    /// The `Content-Type` to send a single document with.
    pub fn content_type(&self) -> &'static str {
        let name = self.plain_name();
        if name.ends_with(".json") {
            "application/json"
        } else if name.ends_with(".xml") || name.ends_with(".rss") || name.ends_with(".atom") {
            "application/xml"
        } else if name.ends_with(".txt") {
            "text/plain; charset=utf-8"
        } else {
            "application/octet-stream"
        }
    }
}

fn is_object_line(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('{') && line.ends_with('}')
}

/// Expands folders (sorted, recursively) and reads every file.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("failed to list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        out.extend(expand(&entries)?);
    }
    Ok(out)
}

/// Reads a file (or stdin for `-`), decompressing `.gz` with a cap on the output.
pub fn read(path: &Path, max_bytes: u64) -> anyhow::Result<Input> {
    let name = path.display().to_string();
    let raw = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("failed to read stdin")?;
        buf
    } else {
        std::fs::read(path).with_context(|| format!("failed to read {name}"))?
    };
    let bytes = if name.ends_with(".gz") || raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // Read one byte past the cap to tell "exactly at" from "over" (a gzip bomb).
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .take(max_bytes + 1)
            .read_to_end(&mut out)
            .with_context(|| format!("failed to decompress {name}"))?;
        anyhow::ensure!(
            out.len() as u64 <= max_bytes,
            "{name} decompresses to more than {max_bytes} bytes"
        );
        out
    } else {
        raw
    };
    Ok(Input { name, bytes })
}
