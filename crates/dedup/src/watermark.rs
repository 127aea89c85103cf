//! The watermark that physical expiry counts back from.
//!
//! It is not the newest article time seen but the time that `rank` decided
//! items have reached (`DedupConfig::watermark_rank`, default 1,000): the
//! newest time below the `rank - 1` newest. One item far ahead of the
//! others cannot move it. That case is common: an item with no `versioncreated` is timed by its
//! receipt, so a single undated item in a replayed 1987 archive stood at
//! 2026, and the delete that followed removed the whole archive's state
//! while its items were still arriving (measured in `make bench`: the two
//! passes over the same items then disagreed by thousands of verdicts).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};

/// `DedupConfig::watermark_rank`'s default. Large enough that stray dates
/// cannot move the watermark; small enough that a new deployment starts
/// expiring after its first batches.
pub const DEFAULT_RANK: usize = 1000;

/// The `rank` newest article times decided so far.
#[derive(Debug, Clone)]
pub struct Watermark {
    rank: usize,
    newest: BinaryHeap<Reverse<DateTime<Utc>>>,
}

impl Watermark {
    pub fn new(rank: usize) -> Self {
        Watermark {
            rank: rank.max(1),
            newest: BinaryHeap::new(),
        }
    }

    /// Counts one decided item's article time.
    pub fn observe(&mut self, time: DateTime<Utc>) {
        if self.newest.len() < self.rank {
            self.newest.push(Reverse(time));
        } else if self.newest.peek().is_some_and(|Reverse(low)| time > *low) {
            self.newest.pop();
            self.newest.push(Reverse(time));
        }
    }

    /// The watermark; none until `rank` items were decided.
    pub fn get(&self) -> Option<DateTime<Utc>> {
        if self.newest.len() < self.rank {
            return None;
        }
        self.newest.peek().map(|Reverse(low)| *low)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(1987, 3, 1, 0, 0, 0)
            .single()
            .expect("date")
            + Duration::days(n)
    }

    #[test]
    fn a_few_items_far_ahead_do_not_move_it() {
        let mut w = Watermark::new(1000);
        for n in 0..999 {
            w.observe(day(n % 30));
        }
        assert_eq!(w.get(), None, "fewer than the rank: no watermark yet");
        w.observe(day(29));
        assert_eq!(w.get(), Some(day(0)));
        // Undated items timed by their receipt, 39 years later.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).single();
        for _ in 0..10 {
            w.observe(now.expect("date"));
        }
        assert!(w.get() < Some(day(30)), "{:?}", w.get());
    }

    #[test]
    fn it_follows_the_bulk_of_the_stream() {
        let mut w = Watermark::new(1000);
        for n in 0..5_000 {
            w.observe(day(n / 100));
        }
        // The 1,000 newest are days 40 to 49.
        assert_eq!(w.get(), Some(day(40)));
    }
}
