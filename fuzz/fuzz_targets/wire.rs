#![no_main]
//! ANPA 1312 and IPTC 7901 transmissions (SOH/STX/ETX framing), as text
//! and as sniffed bytes, then normalised.

use libfuzzer_sys::fuzz_target;
use wirestream_formats::{parse_document, Hint};

fuzz_target!(|data: &[u8]| {
    let ctx = wirestream_fuzz::context();
    if let Ok(items) = parse_document(data, Hint::Text { charset: None }, &ctx) {
        wirestream_fuzz::normalize_all(&items);
    }
    let _ = parse_document(data, Hint::Auto, &ctx);
});
