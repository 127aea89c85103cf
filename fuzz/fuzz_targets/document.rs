#![no_main]
//! The entry point every transport uses: a `Content-Type` (the input's first
//! line) read into a hint, then the rest of the input sniffed and parsed.
//! Also reaches charset labels and the XML decoder with other charsets.

use libfuzzer_sys::fuzz_target;
use wirestream_formats::{parse_document, Hint};

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b""[..], data),
    };
    let content_type = String::from_utf8_lossy(content_type);
    if let Ok(hint) = Hint::from_content_type(&content_type) {
        let _ = parse_document(body, hint, &wirestream_fuzz::context());
    }
    let _ = parse_document(data, Hint::Auto, &wirestream_fuzz::context());
});
