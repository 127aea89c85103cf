//! How many articles go into one near-copy claim.
//!
//! Large claims cost fewer round trips per article. Small ones meet other
//! workers' claims less often (two claims under way race when they index
//! under a common LSH key that is still filling, a chance that grows with
//! the square of their sizes) and lose less work when they do. Neither size
//! suits both a lone worker and four workers on boilerplate, so the size
//! adapts the way TCP's window does: halved after a claim that lost a race,
//! one larger after four in a row that did not. A lone worker never races
//! and keeps the largest claims. Growing by one after each calm claim, or
//! falling straight to the smallest after a race, measured worse
//! (`scripts/bench-workers.sh`; docs/dedup.md, "Workers side by side").

/// The size a worker starts at and comes back to once no claim races.
pub const LARGEST: usize = 50;
/// The floor: every claim costs nine round trips (at a fixed 10, a lone
/// worker ran about a quarter slower than at 50).
pub const SMALLEST: usize = 5;
/// Claims in a row that did not race before the size grows by one.
const GROW_AFTER: u32 = 4;

#[derive(Debug)]
pub struct ClaimSize {
    current: usize,
    /// Claims since the size last changed, none of which raced.
    calm: u32,
}

impl Default for ClaimSize {
    fn default() -> Self {
        ClaimSize {
            current: LARGEST,
            calm: 0,
        }
    }
}

impl ClaimSize {
    /// The number of articles for the next claim.
    pub fn get(&self) -> usize {
        self.current
    }

    /// After a claim: `raced` if it was refused at commit at least once.
    pub fn after(&mut self, raced: bool) {
        if raced {
            self.current = (self.current / 2).max(SMALLEST);
            self.calm = 0;
            return;
        }
        self.calm += 1;
        if self.calm >= GROW_AFTER {
            self.current = (self.current + 1).min(LARGEST);
            self.calm = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_never_races_keeps_the_largest_claims() {
        let mut size = ClaimSize::default();
        for _ in 0..100 {
            size.after(false);
        }
        assert_eq!(size.get(), LARGEST);
    }

    #[test]
    fn races_halve_the_size_down_to_the_smallest() {
        let mut size = ClaimSize::default();
        let mut seen = Vec::new();
        for _ in 0..5 {
            size.after(true);
            seen.push(size.get());
        }
        assert_eq!(seen, [25, 12, 6, 5, 5]);
    }

    #[test]
    fn calm_claims_grow_it_by_one_every_four() {
        let mut size = ClaimSize::default();
        size.after(true);
        assert_eq!(size.get(), 25);
        for _ in 0..3 {
            size.after(false);
        }
        assert_eq!(size.get(), 25);
        size.after(false);
        assert_eq!(size.get(), 26);
    }

    #[test]
    fn a_race_restarts_the_count_of_calm_claims() {
        let mut size = ClaimSize::default();
        size.after(true);
        for _ in 0..3 {
            size.after(false);
        }
        size.after(true);
        assert_eq!(size.get(), 12);
        for _ in 0..3 {
            size.after(false);
        }
        assert_eq!(size.get(), 12, "three calm claims since the race");
    }
}
