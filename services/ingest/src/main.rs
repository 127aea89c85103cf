//! The ingest service: takes wire copy in and writes it to the raw topic.

use std::path::PathBuf;

use clap::Parser;
use wirestream_runtime::{shutdown, telemetry, Config};

#[derive(Parser)]
#[command(version, about = "wirestream ingest: the producer service")]
struct Args {
    /// TOML config file (defaults, then this file, then WIRESTREAM_* variables).
    #[arg(long, env = "WIRESTREAM_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::load(args.config.as_deref())?;
    telemetry::init_tracing(&config.log);
    wirestream_ingest::run(config, shutdown::on_signal()).await
}
