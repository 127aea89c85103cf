//! `wirestream parse`: what the pipeline would make of files, without a broker.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use wirestream_formats::{parse_document, parse_ndjson, Context, Hint, ParseError};
use wirestream_model::RawItem;
use wirestream_runtime::Config;

use crate::input::{self, Input};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders; `-` reads stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Parses one input the way ingest does: NDJSON line by line, anything else as one document.
pub fn parse_input(input: &Input, config: &Config) -> Vec<Result<RawItem, ParseError>> {
    let mut ctx = Context::new("cli");
    ctx.default_provider = config.ingest.default_provider.clone();
    ctx.limits.max_document_bytes = config.ingest.max_body_bytes;
    if input.is_ndjson() {
        return parse_ndjson(&input.bytes, &ctx);
    }
    match Hint::from_content_type(input.content_type())
        .and_then(|hint| parse_document(&input.bytes, hint, &ctx))
    {
        Ok(items) => items.into_iter().map(Ok).collect(),
        Err(error) => vec![Err(error)],
    }
}

pub fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for path in input::expand(&args.paths)? {
        let input = input::read(&path, config.ingest.max_body_bytes as u64 * 64)?;
        for result in parse_input(&input, config) {
            match result {
                Ok(item) => {
                    serde_json::to_writer(&mut out, &item)?;
                    out.write_all(b"\n")?;
                }
                Err(error) => {
                    failed += 1;
                    eprintln!("{}: {error}", input.name);
                }
            }
        }
    }
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../formats/tests/fixtures/");

    fn parsed(name: &str) -> Vec<Result<RawItem, ParseError>> {
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).expect("the fixture");
        let input = Input {
            name: name.to_owned(),
            bytes,
        };
        parse_input(&input, &Config::default())
    }

    #[test]
    fn parses_wire_transmissions_json_feeds_and_agency_variants() {
        // `.txt` is sent as text/plain: the framing makes it a wire transmission.
        for (name, format, items) in [
            ("anpa-1312.txt", "anpa-1312", 2),
            ("iptc-7901.txt", "iptc-7901", 2),
            ("jsonfeed-1.1.json", "json-feed", 1),
            ("nitf-utf16le.xml", "nitf", 1),
            ("atom-entry.xml", "atom", 1),
        ] {
            let results = parsed(name);
            assert_eq!(results.len(), items, "{name}");
            for result in results {
                let item = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(item.format.as_str(), format, "{name}");
                assert!(!item.headline.is_empty(), "{name}");
            }
        }
        let refused = parsed("anpa-truncated.txt");
        let error = refused[0].as_ref().unwrap_err();
        assert!(error.to_string().contains("no ETX"), "{error}");
    }
}
