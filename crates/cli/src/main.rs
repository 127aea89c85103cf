//! `wirestream`: the operators' command.

mod admin;
mod batches;
mod dedup;
mod dlq;
mod feed;
mod ingest_client;
mod input;
mod parse;
mod report;
mod top;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use wirestream_runtime::{telemetry, Config};

// `wirestream dedup` allocates per word and per article; glibc's malloc and
// free were about a sixth of its profile (docs/dedup.md, "Speed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "wirestream", version, about = "Operate a wirestream pipeline")]
struct Cli {
    /// TOML config file (defaults, then this file, then WIRESTREAM_* variables).
    #[arg(long, global = true, env = "WIRESTREAM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send files to the ingest API: NDJSON, ninjs, XML or plain text; folders, `-` for stdin, `.gz`.
    Feed(feed::Args),
    /// Print the raw items the pipeline would make of files, one JSON object a line (no broker needed).
    Parse(parse::Args),
    /// Run normalisation and deduplication on files, in memory, one verdict a line (no broker or database).
    Dedup(dedup::Args),
    /// Apply the database migrations.
    Migrate,
    /// Create the pipeline's Kafka topics when they are missing.
    Topics(admin::TopicsArgs),
    /// Inspect dead letters and replay them after a fix.
    #[command(subcommand)]
    Dlq(dlq::Command),
    /// Count the outcomes stored in Postgres, optionally waiting until N items are accounted for.
    Report(report::Args),
    /// A live view of the pipeline from the services' metrics: rates, verdicts, lag, latency, feeds.
    Top(top::Args),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut log = config.log.clone();
    if std::env::var_os("RUST_LOG").is_none() {
        log.filter = "warn".into();
    }
    telemetry::init_tracing(&log);
    let result = match cli.command {
        Command::Feed(args) => feed::run(&config, args).await,
        Command::Parse(args) => parse::run(&config, args),
        Command::Dedup(args) => dedup::run(&config, args).await,
        Command::Migrate => admin::migrate(&config).await,
        Command::Topics(args) => admin::topics(&config, args).await,
        Command::Report(args) => report::run(&config, args).await,
        Command::Dlq(command) => dlq::run(&config, command).await,
        Command::Top(args) => top::run(&config, args).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", wirestream_store::redact(&format!("{error:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}
