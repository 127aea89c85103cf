//! The sink service: articles and dead letters into PostgreSQL.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wirestream_runtime::{shutdown, telemetry, Config};

#[derive(Parser)]
#[command(version, about = "wirestream sink: the PostgreSQL writer")]
struct Args {
    /// TOML config file (defaults, then this file, then WIRESTREAM_* variables).
    #[arg(long, env = "WIRESTREAM_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    shutdown::run_service("wirestream-sink", |shutdown| async move {
        let config = Config::load(args.config.as_deref())?;
        telemetry::init_tracing(&config.log);
        wirestream_sink::run(config, shutdown).await
    })
}
