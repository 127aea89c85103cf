//! `wirestream migrate` and `wirestream topics`.

use std::process::ExitCode;

use anyhow::Context as _;
use wirestream_runtime::{kafka, Config};

pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let pool =
        wirestream_store::connect_lazy(&config.database.url, 1, config.database.connect_timeout)?;
    wirestream_store::migrate(&pool)
        .await
        .context("failed to migrate")?;
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}

pub async fn topics(config: &Config) -> anyhow::Result<ExitCode> {
    kafka::ensure_topics(&config.kafka).await?;
    println!(
        "topics ready: {}, {}, {} ({} partitions)",
        config.kafka.raw_topic,
        config.kafka.articles_topic,
        config.kafka.dead_letter_topic,
        config.kafka.partitions
    );
    Ok(ExitCode::SUCCESS)
}
