//! The sink service: articles and dead letters into PostgreSQL.

use std::path::PathBuf;

use clap::Parser;
use wirestream_runtime::{shutdown, telemetry, Config};

#[derive(Parser)]
#[command(version, about = "wirestream sink: the PostgreSQL writer")]
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
    wirestream_sink::run(config, shutdown::on_signal()).await
}
