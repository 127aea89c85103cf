//! NDJSON cut into batches as it is read, so that `wirestream feed` holds a
//! few batches at a time rather than the whole file.

use std::io::{self, BufRead, Read as _};

/// What the lines of a file become, in file order.
#[derive(Debug, PartialEq)]
pub enum Piece {
    /// Whole lines joined by `\n`, and each one's 1-based number in the file
    /// (blank lines are skipped, but counted).
    Batch { body: Vec<u8>, lines: Vec<usize> },
    /// A line longer than a request may be: ingest would refuse any batch
    /// holding it, so it is skipped without being held, and reported.
    TooLong { line: usize, bytes: u64 },
}

/// The batches of a line-oriented reader: at most `max_lines` lines and
/// `max_bytes` bytes each, made as the lines arrive.
pub struct Batches<R> {
    reader: R,
    max_lines: usize,
    max_bytes: usize,
    /// The number of the last line read.
    line: usize,
    /// The line being read.
    buf: Vec<u8>,
    /// The batch being filled.
    body: Vec<u8>,
    lines: Vec<usize>,
    /// What to hand out next, after the batch that had to go before it.
    held: Option<io::Result<Piece>>,
}

enum Line {
    Text,
    Blank,
    TooLong(u64),
    End,
}

impl<R: BufRead> Batches<R> {
    pub fn new(reader: R, max_lines: usize, max_bytes: usize) -> Self {
        Batches {
            reader,
            max_lines: max_lines.max(1),
            max_bytes,
            line: 0,
            buf: Vec::new(),
            body: Vec::new(),
            lines: Vec::new(),
            held: None,
        }
    }

    fn read_line(&mut self) -> io::Result<Line> {
        self.buf.clear();
        // One byte past the cap (a line of exactly `max_bytes` comes with its
        // `\n`) tells a line at the cap from one over it, without holding more
        // of an over-long line than that.
        let limit = self.max_bytes as u64 + 1;
        if (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)?
            == 0
        {
            return Ok(Line::End);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() > self.max_bytes {
            let rest = skip_line(&mut self.reader)?;
            return Ok(Line::TooLong(self.buf.len() as u64 + rest));
        }
        Ok(if self.buf.iter().all(u8::is_ascii_whitespace) {
            Line::Blank
        } else {
            Line::Text
        })
    }

    fn push(&mut self) {
        if !self.body.is_empty() {
            self.body.push(b'\n');
        }
        self.body.extend_from_slice(&self.buf);
        self.lines.push(self.line);
    }

    /// Hands out `next` after the lines read before it: reports stay in file
    /// order, and the lines before a read error are still sent.
    fn after_batch(&mut self, next: io::Result<Piece>) -> io::Result<Piece> {
        match self.flush() {
            Some(batch) => {
                self.held = Some(next);
                Ok(batch)
            }
            None => next,
        }
    }

    fn flush(&mut self) -> Option<Piece> {
        if self.lines.is_empty() {
            return None;
        }
        Some(Piece::Batch {
            body: std::mem::take(&mut self.body),
            lines: std::mem::take(&mut self.lines),
        })
    }
}

impl<R: BufRead> Iterator for Batches<R> {
    type Item = io::Result<Piece>;

    fn next(&mut self) -> Option<io::Result<Piece>> {
        if let Some(held) = self.held.take() {
            return Some(held);
        }
        loop {
            if self.lines.len() >= self.max_lines {
                return self.flush().map(Ok);
            }
            let line = match self.read_line() {
                Ok(line) => line,
                Err(error) => {
                    let at = format!("line {}: {error}", self.line + 1);
                    return Some(self.after_batch(Err(io::Error::new(error.kind(), at))));
                }
            };
            match line {
                Line::Blank => {}
                Line::End => return self.flush().map(Ok),
                Line::TooLong(bytes) => {
                    let line = self.line;
                    return Some(self.after_batch(Ok(Piece::TooLong { line, bytes })));
                }
                Line::Text => {
                    // A batch never grows past what ingest takes in one body.
                    let full = !self.body.is_empty()
                        && self.body.len() + 1 + self.buf.len() > self.max_bytes;
                    let ready = if full { self.flush() } else { None };
                    self.push();
                    if ready.is_some() {
                        return ready.map(Ok);
                    }
                }
            }
        }
    }
}

/// Reads past the rest of a line, holding at most one buffer of it; returns
/// how many bytes it had before its `\n`.
fn skip_line(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buf.is_empty() {
            return Ok(skipped);
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(skipped + end as u64);
            }
            None => {
                let n = buf.len();
                reader.consume(n);
                skipped += n as u64;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{BufReader, Cursor, Read};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// An endless NDJSON stream made one line per `read`, counting the lines
    /// it has made: the file that cannot be read whole first.
    pub(crate) struct Endless {
        pub made: Arc<AtomicUsize>,
        pending: Vec<u8>,
    }

    impl Endless {
        pub(crate) fn new() -> Self {
            Endless {
                made: Arc::default(),
                pending: Vec::new(),
            }
        }
    }

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.pending.is_empty() {
                let n = self.made.fetch_add(1, Ordering::SeqCst) + 1;
                self.pending = format!("{{\"uri\":\"urn:endless:{n}\"}}\n").into_bytes();
            }
            let n = out.len().min(self.pending.len());
            out[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    fn batches(text: &str, max_lines: usize, max_bytes: usize) -> Vec<Piece> {
        Batches::new(Cursor::new(text.as_bytes().to_vec()), max_lines, max_bytes)
            .collect::<io::Result<_>>()
            .expect("reads")
    }

    fn batch(body: &str, lines: &[usize]) -> Piece {
        Piece::Batch {
            body: body.as_bytes().to_vec(),
            lines: lines.to_vec(),
        }
    }

    #[test]
    fn batches_are_made_before_the_end_of_the_input() {
        let endless = Endless::new();
        let made = endless.made.clone();
        let mut pieces = Batches::new(BufReader::new(endless), 3, 1 << 20);
        for first in [1, 4, 7] {
            let Some(Ok(Piece::Batch { lines, .. })) = pieces.next() else {
                panic!("a batch");
            };
            assert_eq!(lines, [first, first + 1, first + 2]);
            // No more than the batch and the line that ended it were read.
            assert!(made.load(Ordering::SeqCst) <= first + 3);
        }
    }

    #[test]
    fn line_numbers_are_the_files_across_batches() {
        let text = "{\"a\":1}\n{\"a\":2}\n\n  \n{\"a\":5}\n{\"a\":6}\n{\"a\":7}";
        assert_eq!(
            batches(text, 2, 1 << 20),
            [
                batch("{\"a\":1}\n{\"a\":2}", &[1, 2]),
                batch("{\"a\":5}\n{\"a\":6}", &[5, 6]),
                batch("{\"a\":7}", &[7]),
            ]
        );
        assert_eq!(batches("", 2, 100), []);
        assert_eq!(batches("\n\n", 2, 100), []);
    }

    #[test]
    fn a_line_over_the_cap_is_reported_at_its_place_and_skipped() {
        let long = "x".repeat(25);
        let text = format!("{{}}\n{{\"a\":2}}\n{long}\n{{\"a\":4}}\n{long}");
        assert_eq!(
            batches(&text, 10, 20),
            [
                batch("{}\n{\"a\":2}", &[1, 2]),
                Piece::TooLong { line: 3, bytes: 25 },
                batch("{\"a\":4}", &[4]),
                Piece::TooLong { line: 5, bytes: 25 },
            ]
        );
        // A line of exactly the cap fits, its newline aside.
        let at_cap = "y".repeat(20);
        assert_eq!(
            batches(&format!("{at_cap}\n{at_cap}"), 10, 20),
            [batch(&at_cap, &[1]), batch(&at_cap, &[2])]
        );
    }

    #[test]
    fn a_batch_never_outgrows_a_request_body() {
        // 3 lines of 6 bytes: two (13 bytes with the `\n`) fit in 15, three do not.
        assert_eq!(
            batches("aaaaaa\nbbbbbb\ncccccc\n", 10, 15),
            [batch("aaaaaa\nbbbbbb", &[1, 2]), batch("cccccc", &[3])]
        );
    }

    #[test]
    fn a_read_error_names_the_line() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let reader = BufReader::new(Cursor::new(b"{}\n{}\n".to_vec()).chain(Broken));
        let mut pieces = Batches::new(reader, 10, 100);
        let Some(Ok(first)) = pieces.next() else {
            panic!("the lines before the error");
        };
        assert_eq!(first, batch("{}\n{}", &[1, 2]));
        let Some(Err(error)) = pieces.next() else {
            panic!("the error");
        };
        assert_eq!(error.to_string(), "line 3: disk gone");
    }
}
