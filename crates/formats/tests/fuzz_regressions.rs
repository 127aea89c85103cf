//! Every input that once broke a parser fuzz target (`fuzz/regressions/<target>/`)
//! goes through the same calls as that target (`fuzz/fuzz_targets/<target>.rs`)
//! and must end in items or a clean error, quickly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wirestream_formats::{parse_document, parse_ndjson, sniff, Charset, Context, Hint};
use wirestream_model::Format;

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/regressions");

/// Slower than this, even unoptimised, is the kind of hang the fuzzer's
/// `-timeout` catches.
const TOO_SLOW: Duration = Duration::from_secs(5);

fn xml_as(data: &[u8], format: Format, ctx: &Context) {
    let hint = Hint::Xml { charset: None };
    if sniff(data, hint).ok() == Some(format) {
        let _ = parse_document(data, hint, ctx);
    }
}

/// What the target `target` does with `data`; `false` for targets that are
/// not parser targets.
fn run(target: &str, data: &[u8]) -> bool {
    let ctx = Context::new("fuzz");
    match target {
        "ninjs" => {
            let _ = parse_document(data, Hint::Json, &ctx);
            let _ = parse_ndjson(data, &ctx);
        }
        "text" => {
            let _ = parse_document(data, Hint::Text { charset: None }, &ctx);
            if let Ok(charset) = Charset::for_label("iso-8859-1") {
                let _ = parse_document(data, Hint::Text { charset }, &ctx);
            }
        }
        "document" => {
            let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
                Some(at) => (&data[..at], &data[at + 1..]),
                None => (&b""[..], data),
            };
            if let Ok(hint) = Hint::from_content_type(&String::from_utf8_lossy(content_type)) {
                let _ = parse_document(body, hint, &ctx);
            }
            let _ = parse_document(data, Hint::Auto, &ctx);
        }
        "newsml_g2" => xml_as(data, Format::NewsmlG2, &ctx),
        "newsml1" => xml_as(data, Format::Newsml1, &ctx),
        "nitf" => xml_as(data, Format::Nitf, &ctx),
        "rss" => xml_as(data, Format::Rss, &ctx),
        "atom" => xml_as(data, Format::Atom, &ctx),
        "wire" => {
            let _ = parse_document(data, Hint::Text { charset: None }, &ctx);
            let _ = parse_document(data, Hint::Auto, &ctx);
        }
        "json_feed" => {
            let _ = parse_document(data, Hint::Json, &ctx);
        }
        _ => return false,
    }
    true
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_fuzz_regression_parses_or_fails_cleanly() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in files(Path::new(REGRESSIONS))
        .into_iter()
        .filter(|d| d.is_dir())
    {
        let target = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for file in files(&dir) {
            let data = std::fs::read(&file).expect("a readable regression input");
            let started = Instant::now();
            match std::panic::catch_unwind(|| run(&target, &data)) {
                // A folder this test cannot replay (the normaliser's
                // targets): its files would pass unseen.
                Ok(false) => failures.push(format!(
                    "{}: no replay for target `{target}` here; replay it in the crate it tests",
                    file.display()
                )),
                Ok(true) if started.elapsed() > TOO_SLOW => {
                    failures.push(format!("{}: took {:?}", file.display(), started.elapsed()))
                }
                Ok(true) => ran += 1,
                Err(_) => failures.push(format!("{}: panicked", file.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("{ran} fuzz regression inputs ran clean");
}

/// Found by feeding the fuzz targets documents larger than libFuzzer's
/// inputs: one element with 200,000 attributes took minutes (quick-xml's
/// duplicate check is quadratic). Generated here rather than committed: the
/// document is megabytes.
#[test]
fn an_element_with_very_many_attributes_parses_in_linear_time() {
    let attributes: String = (0..300_000).map(|i| format!(" a{i}=\"\"")).collect();
    let doc = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry{attributes}><id>x</id><title>t</title></entry></feed>"
    );
    let started = Instant::now();
    let _ = parse_document(
        doc.as_bytes(),
        Hint::Xml { charset: None },
        &Context::new("fuzz"),
    );
    assert!(started.elapsed() < TOO_SLOW, "took {:?}", started.elapsed());
}

#[test]
fn a_duplicated_attribute_is_still_refused() {
    let doc =
        br#"<rss version="2.0"><channel version="1" version="2"><title>t</title></channel></rss>"#;
    let error = parse_document(doc, Hint::Xml { charset: None }, &Context::new("fuzz"))
        .expect_err("not well-formed");
    assert!(
        error.to_string().contains("duplicated attribute"),
        "{error}"
    );
}
