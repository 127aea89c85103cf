//! `wirestream-bench`: figures for `make bench`. A harness, not a test: it
//! prints what it measured and asserts nothing.

mod broker;
mod ceiling;
mod connect;
mod copy;
mod corpus;
mod csv;
mod pgcpu;
mod recorder;
mod scratch;
mod sink;

use std::path::PathBuf;
use std::time::Duration;

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
    /// The store's ceiling: the rows the pipeline writes for `items` (verdicts,
    /// dedup state, articles), loaded into fresh databases by our write path
    /// and by `COPY`, with nothing else running.
    Ceiling {
        /// NDJSON items, e.g. the file `make bench` feeds in its step 3.
        #[arg(long)]
        items: PathBuf,
        /// Items per worker batch, as the worker's `batch_size`.
        #[arg(long, default_value_t = 500)]
        worker_batch: usize,
        /// Rows per sink transaction, as the sink's `batch_size`.
        #[arg(long, default_value_t = 1000)]
        sink_batch: usize,
        /// The dedup's `allowed_lateness`, as bench.sh gives the worker
        /// (`WIRESTREAM_WORKER__DEDUP__ALLOWED_LATENESS`, from the same
        /// variable and with the same default).
        #[arg(
            long,
            env = "BENCH_ALLOWED_LATENESS",
            default_value = "400d",
            value_parser = humantime::parse_duration
        )]
        allowed_lateness: Duration,
        /// PostgreSQL server (throw-away databases are created on it).
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// The server's postmaster pid (same machine): PostgreSQL's CPU
        /// per method is reported too.
        #[arg(long)]
        postgres_pid: Option<u32>,
    },
    /// Copies the articles topic into a new topic for Kafka Connect's
    /// JsonConverter (a schema in every message; scripts/bench-connect.sh).
    ConnectTopic {
        #[arg(long, env = "KAFKA_BROKERS")]
        brokers: String,
        /// The articles topic.
        #[arg(long)]
        from: String,
        /// The topic to create and fill.
        #[arg(long)]
        to: String,
        /// Messages to copy; default: all there are.
        #[arg(long)]
        expected: Option<usize>,
    },
    /// Writes the corpus repeated with fresh ids until there are `items` lines.
    Corpus {
        #[arg(long, default_value = "../shared/corpus/reuters21578.ndjson")]
        corpus: PathBuf,
        #[arg(long)]
        items: usize,
        #[arg(long)]
        out: PathBuf,
        /// Marks this run's ids, so that two runs into one database do not collide.
        #[arg(long, default_value = "")]
        tag: String,
        /// Move each repetition's article times past the last one's, so that
        /// the stream spans many dedup horizons.
        #[arg(long)]
        shift_rounds: bool,
    },
    /// The broker's ceiling: reads `topic` with a bare consumer, then sends the
    /// same messages to `to` with a bare producer. Prints both rates.
    Broker {
        #[arg(long, env = "KAFKA_BROKERS")]
        brokers: String,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        to: String,
        /// Messages on `topic`.
        #[arg(long)]
        expected: usize,
        /// Sends awaiting acknowledgement at once.
        #[arg(long, default_value_t = 10_000)]
        in_flight: usize,
        /// librdkafka producer settings, `key=value`, to try other tunings.
        #[arg(short = 'X', value_parser = key_value)]
        producer: Vec<(String, String)>,
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
        Command::Ceiling {
            items,
            worker_batch,
            sink_batch,
            allowed_lateness,
            database_url,
            postgres_pid,
        } => {
            let options = ceiling::Options {
                worker_batch,
                sink_batch,
                postgres_pid,
                allowed_lateness,
            };
            ceiling::run(&items, &database_url, &options).await
        }
        Command::ConnectTopic {
            brokers,
            from,
            to,
            expected,
        } => {
            let config = wirestream_runtime::config::KafkaConfig {
                brokers,
                ..Default::default()
            };
            connect::copy_topic(&config, &from, &to, expected).await
        }
        Command::Corpus {
            corpus,
            items,
            out,
            tag,
            shift_rounds,
        } => {
            let written = corpus::write(&corpus, &out, items, &tag, shift_rounds)?;
            println!("items={written}");
            Ok(())
        }
        Command::Broker {
            brokers,
            topic,
            to,
            expected,
            in_flight,
            producer,
        } => {
            let config = wirestream_runtime::config::KafkaConfig {
                brokers,
                producer: producer.into_iter().collect(),
                ..Default::default()
            };
            let cpu = broker::cpu_seconds();
            let (records, consumed) =
                tokio::task::block_in_place(|| broker::consume(&config, &topic, expected))?;
            let consume_cpu = broker::cpu_seconds() - cpu;
            let cpu = broker::cpu_seconds();
            let produced = broker::produce(&config, &to, &records, in_flight).await?;
            let produce_cpu = broker::cpu_seconds() - cpu;
            let per_1k = |seconds: f64| seconds * 1000.0 / records.len().max(1) as f64;
            println!("bare_consume_cpu_s_per_1k={:.3}", per_1k(consume_cpu));
            println!("bare_produce_cpu_s_per_1k={:.3}", per_1k(produce_cpu));
            println!("bare_consume_msgs_per_s={consumed:.0}");
            println!("bare_produce_msgs_per_s={produced:.0}");
            Ok(())
        }
    }
}

fn key_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected key=value, got {arg:?}"))
}
