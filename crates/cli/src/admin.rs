//! `wirestream migrate` and `wirestream topics`.

use std::process::ExitCode;

use anyhow::Context as _;
use wirestream_runtime::{kafka, Config};

pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let pool = wirestream_store::connect_lazy(&config.database, 1)?;
    wirestream_store::migrate(&pool)
        .await
        .context("failed to migrate")?;
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct TopicsArgs {
    /// First wait this long for the brokers to answer a metadata request
    /// (e.g. `60s`), for scripts that have just started a broker.
    #[arg(long, value_parser = humantime::parse_duration)]
    wait: Option<std::time::Duration>,
}

pub async fn topics(config: &Config, args: TopicsArgs) -> anyhow::Result<ExitCode> {
    if let Some(wait) = args.wait {
        kafka::wait_for_broker(&config.kafka, wait).await?;
    }
    kafka::ensure_topics(&config.kafka).await?;
    println!(
        "topics ready: {}, {}, {} ({} partitions, replication factor {})",
        config.kafka.raw_topic,
        config.kafka.articles_topic,
        config.kafka.dead_letter_topic,
        config.kafka.partitions,
        config.kafka.replication_factor
    );
    Ok(ExitCode::SUCCESS)
}
