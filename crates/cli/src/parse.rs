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
