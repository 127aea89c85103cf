#![no_main]
//! Plain text, as UTF-8 and as a declared single-byte charset (decoded).

use libfuzzer_sys::fuzz_target;
use wirestream_formats::{parse_document, Charset, Hint};

fuzz_target!(|data: &[u8]| {
    let ctx = wirestream_fuzz::context();
    let _ = parse_document(data, Hint::Text { charset: None }, &ctx);
    if let Ok(charset) = Charset::for_label("iso-8859-1") {
        let _ = parse_document(data, Hint::Text { charset }, &ctx);
    }
});
