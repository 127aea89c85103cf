#![no_main]
//! Documents that sniff as Nitf, through `parse_document` as the API reads them.

use libfuzzer_sys::fuzz_target;
use wirestream_model::Format;

fuzz_target!(|data: &[u8]| {
    let _ = wirestream_fuzz::parse_xml_as(data, Format::Nitf);
});
