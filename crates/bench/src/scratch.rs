//! Throw-away databases on the server of `DATABASE_URL`, migrated to the
//! current schema: one per measurement, so that each starts from empty
//! tables and none sees another's bloat.

use anyhow::Context as _;
use sqlx::PgPool;

pub struct Scratch {
    admin: PgPool,
    name: String,
    pub url: String,
    pub pool: PgPool,
}

impl Scratch {
    /// Creates and migrates database `name` on `server_url`'s server.
    pub async fn create(server_url: &str, name: &str) -> anyhow::Result<Scratch> {
        let admin = PgPool::connect(server_url)
            .await
            .context("failed to reach PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .with_context(|| format!("failed to create database {name}"))?;
        let url = match server_url.rfind('/') {
            Some(i) => format!("{}/{name}", &server_url[..i]),
            None => anyhow::bail!("DATABASE_URL has no database name"),
        };
        let pool = PgPool::connect(&url).await?;
        wirestream_store::migrate(&pool).await?;
        Ok(Scratch {
            admin,
            name: name.to_owned(),
            url,
            pool,
        })
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        self.pool.close().await;
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await
            .with_context(|| format!("failed to drop database {}", self.name))?;
        Ok(())
    }
}
