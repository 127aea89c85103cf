//! The ingest service: takes wire copy in and writes it to the raw topic.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wirestream_runtime::{shutdown, telemetry, Config};

#[derive(Parser)]
#[command(version, about = "wirestream ingest: the producer service")]
struct Args {
    /// TOML config file (defaults, then this file, then WIRESTREAM_* variables).
    #[arg(long, env = "WIRESTREAM_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // A failed start (a port in use) prints one line and exits 1 at once,
    // rather than waiting on the broker check's thread.
    shutdown::run_service("wirestream-ingest", |shutdown| async move {
        let config = Config::load(args.config.as_deref())?;
        telemetry::init_tracing(&config.log);
        wirestream_ingest::run(config, shutdown).await
    })
}
