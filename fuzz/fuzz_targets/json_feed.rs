#![no_main]
//! JSON Feed 1.x documents, then normalised.

use libfuzzer_sys::fuzz_target;
use wirestream_formats::{parse_document, Hint};

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = parse_document(data, Hint::Json, &wirestream_fuzz::context()) {
        wirestream_fuzz::normalize_all(&items);
    }
});
