//! Normalises the Reuters-21578 corpus and reports throughput.
//!
//! `cargo run --release -p wirestream-normalize --example corpus [dump.ndjson]`
//! With a path, the articles are also written there, one JSON per line
//! (without the original), to review the rules on the whole corpus.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::time::Instant;

use wirestream_normalize::normalize;

fn main() -> std::io::Result<()> {
    let load = Instant::now();
    let items = common::reuters();
    println!(
        "loaded {} items in {:.3} s",
        items.len(),
        load.elapsed().as_secs_f64()
    );
    let processed_at = common::received_at();

    let start = Instant::now();
    let mut ok = 0usize;
    let mut errors = 0usize;
    let mut articles = Vec::with_capacity(items.len());
    for raw in &items {
        match normalize(raw, processed_at) {
            Ok(article) => {
                ok += 1;
                articles.push(article);
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = start.elapsed();
    let bytes: usize = items
        .iter()
        .filter_map(|raw| raw.body.as_ref())
        .map(|body| body.value.len())
        .sum();
    println!(
        "{} items ({ok} articles, {errors} errors, {:.1} MB of body) in {:.3} s: {:.0} items/s",
        items.len(),
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        items.len() as f64 / elapsed.as_secs_f64()
    );

    if let Some(path) = std::env::args().nth(1) {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for mut article in articles {
            article.original = wirestream_model::Original::Utf8(String::new());
            serde_json::to_writer(&mut out, &article)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    Ok(())
}
