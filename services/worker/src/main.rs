//! The worker service: raw items in, normalised and deduplicated articles out.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wirestream_runtime::{shutdown, telemetry, Config};

// Normalising and fingerprinting allocate per word and per article; glibc's
// malloc and free were about a sixth of the work (docs/dedup.md, "Speed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(version, about = "wirestream worker: normalise and deduplicate")]
struct Args {
    /// TOML config file (defaults, then this file, then WIRESTREAM_* variables).
    #[arg(long, env = "WIRESTREAM_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    shutdown::run_service("wirestream-worker", |shutdown| async move {
        let config = Config::load(args.config.as_deref())?;
        telemetry::init_tracing(&config.log);
        wirestream_worker::run(config, shutdown).await
    })
}
