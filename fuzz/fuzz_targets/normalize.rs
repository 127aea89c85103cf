#![no_main]
//! Raw item to article, for items as the parsers make them from any
//! document (format sniffed), i.e. what the worker gets from the raw topic.

use libfuzzer_sys::fuzz_target;
use wirestream_formats::{parse_document, Hint};

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = parse_document(data, Hint::Auto, &wirestream_fuzz::context()) {
        wirestream_fuzz::normalize_all(&items);
    }
});
