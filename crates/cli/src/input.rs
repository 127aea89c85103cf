//! Reading the files the commands are given: folders, `-` for stdin, `.gz`.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// How much of an input is looked at to guess its format (and its buffer size).
const HEAD_BYTES: usize = 64 * 1024;

/// One input document: where it came from and its (decompressed) bytes.
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Input {
    /// NDJSON files (and stdin that looks like it) are sent in batches.
    pub fn is_ndjson(&self) -> bool {
        looks_like_ndjson(&self.name, &self.bytes[..self.bytes.len().min(HEAD_BYTES)])
    }

    /// The `Content-Type` to send a single document with.
    pub fn content_type(&self) -> &'static str {
        let name = plain_name(&self.name);
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

/// An input opened but not read yet: its first (decompressed) bytes tell its
/// format, and the rest is read only as needed, so that NDJSON can be sent
/// while it is read rather than held whole in memory first.
pub struct Opened {
    pub name: String,
    gz: bool,
    head: Vec<u8>,
    rest: Box<dyn BufRead + Send>,
}

impl Opened {
    pub fn is_ndjson(&self) -> bool {
        looks_like_ndjson(&self.name, &self.head)
    }

    /// Everything, from the first byte, read as it is consumed.
    pub fn into_reader(self) -> impl BufRead + Send {
        Cursor::new(self.head).chain(self.rest)
    }

    /// Reads the whole input as one document, refusing more than `max_bytes`.
    pub fn read_whole(self, max_bytes: u64) -> anyhow::Result<Input> {
        let Opened {
            name,
            gz,
            head,
            rest,
        } = self;
        let verb = if gz { "decompress" } else { "read" };
        let mut bytes = head;
        // Read one byte past the cap to tell "exactly at" from "over"; a gzip
        // bomb stops there too.
        let room = max_bytes
            .saturating_add(1)
            .saturating_sub(bytes.len() as u64);
        rest.take(room)
            .read_to_end(&mut bytes)
            .with_context(|| format!("failed to {verb} {name}"))?;
        if bytes.len() as u64 > max_bytes {
            let what = if gz { "decompresses to" } else { "is" };
            anyhow::bail!("{name} {what} more than {max_bytes} bytes");
        }
        Ok(Input { name, bytes })
    }
}

/// The name without a trailing `.gz`, for guessing the format.
fn plain_name(name: &str) -> &str {
    name.strip_suffix(".gz").unwrap_or(name)
}

/// NDJSON by its name, or a stream whose first two non-blank lines are each a
/// complete JSON object (a JSON document on several lines is not).
fn looks_like_ndjson(name: &str, head: &[u8]) -> bool {
    let name = plain_name(name);
    if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
        return true;
    }
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    match (lines.next(), lines.next()) {
        (Some(a), Some(b)) => is_object_line(a) && is_object_line(b),
        _ => false,
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

/// Reads a whole file (or stdin for `-`), decompressing `.gz` with a cap on the output.
pub fn read(path: &Path, max_bytes: u64) -> anyhow::Result<Input> {
    open(path)?.read_whole(max_bytes)
}

/// Opens a file (or stdin for `-`) without reading more than its head.
pub fn open(path: &Path) -> anyhow::Result<Opened> {
    let name = path.display().to_string();
    let source: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("failed to read {name}"))?)
    };
    open_reader(name, source)
}

/// Opens a byte stream called `name`. Gzip (by name, or by its magic bytes)
/// is decompressed as it is read.
pub fn open_reader(name: String, source: Box<dyn Read + Send>) -> anyhow::Result<Opened> {
    let mut raw = BufReader::with_capacity(HEAD_BYTES, source);
    let magic = read_up_to(&mut raw, 2).with_context(|| format!("failed to read {name}"))?;
    let gz = name.ends_with(".gz") || magic.starts_with(&[0x1f, 0x8b]);
    let raw = Cursor::new(magic).chain(raw);
    let mut rest: Box<dyn BufRead + Send> = if gz {
        let decoder = flate2::bufread::MultiGzDecoder::new(raw);
        Box::new(BufReader::with_capacity(HEAD_BYTES, decoder))
    } else {
        Box::new(raw)
    };
    let verb = if gz { "decompress" } else { "read" };
    let head =
        read_up_to(&mut rest, HEAD_BYTES).with_context(|| format!("failed to {verb} {name}"))?;
    Ok(Opened {
        name,
        gz,
        head,
        rest,
    })
}

/// Up to `n` bytes, fewer only at the end of the stream (a pipe may hand
/// over less than asked for at a time).
fn read_up_to(reader: &mut impl Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn opened(name: &str, bytes: &[u8]) -> Opened {
        open_reader(name.into(), Box::new(Cursor::new(bytes.to_vec()))).expect("opens")
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("compress");
        encoder.finish().expect("compress")
    }

    #[test]
    fn ndjson_by_name_or_by_its_first_lines() {
        assert!(opened("a.ndjson", b"").is_ndjson());
        assert!(opened("a.jsonl.gz", &gzip(b"{}\n")).is_ndjson());
        assert!(opened("-", b"{\"a\":1}\n\n{\"b\":2}\n").is_ndjson());
        assert!(!opened("a.json", b"{\n  \"a\": 1\n}\n").is_ndjson());
        assert!(!opened("a.xml", b"<a/>").is_ndjson());
    }

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes() {
        let input = opened("-", &gzip(b"<a/>")).read_whole(100).expect("reads");
        assert_eq!(input.bytes, b"<a/>");
    }

    #[test]
    fn a_document_over_the_cap_is_refused() {
        let error = opened("big.xml", &[b'x'; 11])
            .read_whole(10)
            .err()
            .expect("refused");
        assert_eq!(error.to_string(), "big.xml is more than 10 bytes");
        let input = opened("ok.xml", &[b'x'; 10])
            .read_whole(10)
            .expect("at the cap");
        assert_eq!(input.bytes.len(), 10);

        let error = opened("bomb.txt.gz", &gzip(&[b' '; 100_000]))
            .read_whole(1000)
            .err()
            .expect("refused");
        assert_eq!(
            error.to_string(),
            "bomb.txt.gz decompresses to more than 1000 bytes"
        );
    }

    #[test]
    fn a_broken_gzip_is_an_error() {
        let mut bytes = gzip(&[b'a'; 1000]);
        bytes.truncate(bytes.len() / 2);
        let error = open_reader("a.txt.gz".into(), Box::new(Cursor::new(bytes)))
            .and_then(|o| o.read_whole(10_000))
            .err()
            .expect("an error");
        assert!(
            format!("{error:#}").starts_with("failed to decompress a.txt.gz"),
            "{error:#}"
        );
    }
}
