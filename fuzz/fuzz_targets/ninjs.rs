#![no_main]
//! ninjs 1–3, as one document and as NDJSON lines (the batch API's path).

use libfuzzer_sys::fuzz_target;
use wirestream_formats::{parse_document, parse_ndjson, Hint};

fuzz_target!(|data: &[u8]| {
    let ctx = wirestream_fuzz::context();
    let _ = parse_document(data, Hint::Json, &ctx);
    let _ = parse_ndjson(data, &ctx);
});
