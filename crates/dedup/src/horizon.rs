//! The horizon: how long an article stays in the near-copy index.
//!
//! Time is the articles' own (`versioncreated`, else `received_at`), so that
//! an archive replayed today is deduplicated as it was sent. An item ignores
//! state older than its own time minus the horizon, whether deleted or not,
//! so its decision does not depend on how batches formed; the delete itself
//! (`Deduplicator`, the worker's expiry task) only frees storage, a horizon
//! plus the allowed lateness behind the newest article.
//!
//! An item up to `allowed_lateness` older than the newest article decided
//! before it needs state back to its own time minus the horizon, which is
//! no older than [`delete_cutoff`]: it finds all it could match whenever the
//! delete ran. An older item is [`is_late`]: it may or may not.

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

/// The deletes' cut: state older than the newest article time minus the
/// horizon minus the allowed lateness is deleted. The one place that
/// arithmetic lives, for the in-process delete and the worker's task alike.
pub fn delete_cutoff(
    newest: DateTime<Utc>,
    horizon: Duration,
    allowed_lateness: Duration,
) -> DateTime<Utc> {
    cutoff(cutoff(newest, allowed_lateness), horizon)
}

/// An item at `time`, decided after articles as new as `newest`, is late
/// when it is more than `allowed_lateness` older: state it could match may
/// already have been deleted (or not), so its verdict may depend on timing.
pub fn is_late(time: DateTime<Utc>, newest: DateTime<Utc>, allowed_lateness: Duration) -> bool {
    time < cutoff(newest, allowed_lateness)
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

    #[test]
    fn an_item_within_the_lateness_keeps_its_whole_horizon() {
        let day = Duration::from_secs(86_400);
        let newest = Utc
            .with_ymd_and_hms(1987, 10, 1, 0, 0, 0)
            .single()
            .expect("date");
        let (horizon, lateness) = (30 * day, 400 * day);
        let deleted_before = delete_cutoff(newest, horizon, lateness);
        assert_eq!(
            deleted_before,
            newest - chrono::Duration::days(430),
            "newest - horizon - lateness"
        );
        // The oldest item that is not late still needs nothing deleted.
        let oldest_on_time = cutoff(newest, lateness);
        assert!(!is_late(oldest_on_time, newest, lateness));
        assert!(cutoff(oldest_on_time, horizon) >= deleted_before);
        assert!(is_late(
            oldest_on_time - chrono::Duration::seconds(1),
            newest,
            lateness
        ));
        assert_eq!(
            delete_cutoff(newest, horizon, Duration::MAX),
            DateTime::<Utc>::MIN_UTC
        );
    }
}
