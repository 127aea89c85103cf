//! `wirestream-bench`: figures for `make bench`. A harness, not a test: it
//! prints what it measured and asserts nothing.

mod sink;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "wirestream benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sink writes (UNNEST, and COPY into a staging table) against `psql \copy` of the same rows.
    Sink {
        /// NDJSON corpus to normalise into articles.
        #[arg(long, default_value = "../shared/corpus/reuters21578.ndjson")]
        corpus: PathBuf,
        /// Rows per statement, as the sink's `batch_size`.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// PostgreSQL server (a throw-away database is created on it).
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Sink {
            corpus,
            batch,
            database_url,
        } => sink::run(&corpus, batch, &database_url).await,
    }
}
