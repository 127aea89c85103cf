//! The horizon: how long an article stays in the near-copy index.
//!
//! Time is the articles' own (`versioncreated`, else `received_at`), so that
//! an archive replayed today is deduplicated as it was sent. An item ignores
//! state older than its own time minus the horizon, whether deleted or not,
//! so its decision does not depend on how batches formed; the delete itself
//! (`Deduplicator`) only frees storage, a horizon behind the newest article.

use std::time::Duration;

use chrono::{DateTime, Utc};
use wirestream_model::Article;

/// The time an article is indexed and compared at.
pub fn seen_at(article: &Article) -> DateTime<Utc> {
    article.versioncreated.unwrap_or(article.received_at)
}

/// `time - horizon`, saturating (a horizon too long to subtract expires nothing).
pub fn cutoff(time: DateTime<Utc>, horizon: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(horizon)
        .ok()
        .and_then(|h| time.checked_sub_signed(h))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn cutoff_saturates() {
        let t = Utc
            .with_ymd_and_hms(1987, 3, 31, 0, 0, 0)
            .single()
            .expect("date");
        assert_eq!(
            cutoff(t, Duration::from_secs(86_400)),
            Utc.with_ymd_and_hms(1987, 3, 30, 0, 0, 0)
                .single()
                .expect("date")
        );
        assert_eq!(cutoff(t, Duration::MAX), DateTime::<Utc>::MIN_UTC);
    }
}
