//! The counts behind `wirestream report`: outcomes stored, optionally only
//! those stored since a given time (one run of `make demo`).

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row as _};

use crate::StoreError;

/// What PostgreSQL holds, per outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcomes {
    /// Articles per verdict, ordered by verdict.
    pub by_verdict: Vec<(String, i64)>,
    pub dead_letters: i64,
    /// From the first receipt to the last commit of the articles counted.
    pub seconds: f64,
}

impl Outcomes {
    pub fn articles(&self) -> i64 {
        self.by_verdict.iter().map(|(_, n)| n).sum()
    }

    /// Stored or dead-lettered.
    pub fn accounted(&self) -> i64 {
        self.articles() + self.dead_letters
    }
}

/// The outcomes stored at or after `since` (all of them without it). An
/// article counts when it was inserted or replaced then: a copy that
/// changed nothing leaves its row's `stored_at` as it was.
pub async fn outcomes(pool: &PgPool, since: Option<DateTime<Utc>>) -> Result<Outcomes, StoreError> {
    let rows = sqlx::query(
        "SELECT verdict, count(*) FROM articles
         WHERE $1::timestamptz IS NULL OR stored_at >= $1
         GROUP BY verdict ORDER BY verdict",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    let by_verdict = rows
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let dead_letters: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM dead_letters WHERE $1::timestamptz IS NULL OR stored_at >= $1",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(stored_at) - min(received_at))::float8 FROM articles
         WHERE $1::timestamptz IS NULL OR stored_at >= $1",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(Outcomes {
        by_verdict,
        dead_letters,
        seconds: seconds.unwrap_or(0.0),
    })
}

/// Items accounted for, the cheap way: while a run is being measured this
/// is asked again and again, and the full [`outcomes`] (two scans of
/// `articles` and a sort) every second was a fifth of PostgreSQL's CPU in
/// `make bench`.
pub async fn accounted(pool: &PgPool, since: Option<DateTime<Utc>>) -> Result<i64, StoreError> {
    let n = match since {
        None => {
            sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM dead_letters)",
            )
            .fetch_one(pool)
            .await?
        }
        Some(since) => {
            sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM articles WHERE stored_at >= $1)
                      + (SELECT count(*) FROM dead_letters WHERE stored_at >= $1)",
            )
            .bind(since)
            .fetch_one(pool)
            .await?
        }
    };
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrator = "crate::MIGRATOR")]
    async fn counts_everything_or_what_came_since(pool: PgPool) {
        sqlx::query(
            "INSERT INTO articles (provider, uri, version, pubstatus, verdict, headline, body,
                                   word_count, content_hash, format, source, received_at, processed_at, stored_at, original)
             SELECT 'p', 'u' || i, 1, 'usable', v, 'h', 'b', 1, 'x', 'text', 'cli', now() - interval '1 hour', now(), s, 'o'
             FROM (VALUES (1, 'new', now() - interval '1 hour'), (2, 'new', now()), (3, 'duplicate', now()))
                  AS t(i, v, s)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let all = outcomes(&pool, None).await.unwrap();
        assert_eq!(
            all.by_verdict,
            vec![("duplicate".into(), 1), ("new".into(), 2)]
        );
        assert_eq!(all.accounted(), 3);
        assert_eq!(accounted(&pool, None).await.unwrap(), 3);
        let since = Utc::now() - chrono::Duration::minutes(1);
        let recent = outcomes(&pool, Some(since)).await.unwrap();
        assert_eq!(recent.accounted(), 2);
        assert_eq!(accounted(&pool, Some(since)).await.unwrap(), 2);
        assert!(recent.seconds > 3000.0, "{}", recent.seconds);
    }
}
