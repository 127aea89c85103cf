//! One fixture per class of real-world trouble (prefixed namespaces, UTF-16,
//! wrong charset declarations, internal DTDs, agency variants, wire
//! formats, JSON Feed): each parses with its text in the item's own fields,
//! and broken ones are refused with what and where.

use wirestream_formats::{parse_document, Context, ErrorKind, Hint};
use wirestream_model::{BodyKind, Format, RawItem};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn parse(name: &str) -> Vec<RawItem> {
    let bytes = std::fs::read(format!("{DIR}{name}")).unwrap();
    parse_document(&bytes, Hint::Auto, &Context::new("test"))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn one(name: &str) -> RawItem {
    let mut items = parse(name);
    assert_eq!(items.len(), 1, "{name}");
    items.remove(0)
}

fn body(item: &RawItem) -> &str {
    item.body.as_ref().map_or("", |b| b.value.as_str())
}

#[test]
fn dump() {
    for entry in std::fs::read_dir(DIR).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        match parse_document(&bytes, Hint::Auto, &Context::new("test")) {
            Ok(items) => {
                for item in items {
                    println!("{}: {}", path.display(), serde_json::to_string(&{ let mut i = item.clone(); i.original = wirestream_model::Original::Utf8(String::new()); i }).unwrap());
                }
            }
            Err(e) => println!("{}: ERROR {e}", path.display()),
        }
    }
}
