//! Verification of an LSH candidate: similarity of the shingle samples, then
//! the vetoes that keep templated items of different companies apart.

use crate::config::DedupConfig;
use crate::sketch::Sketch;

/// Two bottom-k samples restricted to the values both samples cover
/// completely: below the smaller of their thresholds, each sample holds
/// every value of its set, so the restricted sets are a uniform sample of
/// both (and the whole sets when neither sample is full).
fn common_range<'a>(
    a: &'a [u32],
    a_count: u32,
    b: &'a [u32],
    b_count: u32,
) -> (&'a [u32], &'a [u32]) {
    let limit = |s: &[u32], count: u32| {
        if s.len() as u32 >= count {
            u32::MAX
        } else {
            s.last().copied().unwrap_or(u32::MAX)
        }
    };
    let tau = limit(a, a_count).min(limit(b, b_count));
    let cut = |s: &'a [u32]| &s[..s.partition_point(|&v| v <= tau)];
    (cut(a), cut(b))
}

/// Values in both sorted slices.
fn intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn contains(sorted: &[u32], value: u32) -> bool {
    sorted.binary_search(&value).is_ok()
}

/// Whether each headline has a word the other lacks.
fn headlines_diverge(a: &Sketch, b: &Sketch) -> bool {
    let only = |x: &Sketch, y: &Sketch| x.headline.iter().any(|w| !contains(&y.headline, *w));
    !a.headline.is_empty() && !b.headline.is_empty() && only(a, b) && only(b, a)
}

/// The similarity of `item` to `candidate` when it is a near copy of it,
/// else `None`. `late` says the two were sent more than `config.recent`
/// apart.
pub(crate) fn near_copy(
    item: &Sketch,
    candidate: &Sketch,
    late: bool,
    config: &DedupConfig,
) -> Option<f32> {
    // Tickers: both sent and none shared is two different companies.
    if !item.tickers.is_empty()
        && !candidate.tickers.is_empty()
        && intersection(&item.tickers, &candidate.tickers) == 0
    {
        return None;
    }
    // Short templated notices: the headline is the subject. In "EMPI INC 4TH
    // QTR LOSS" and "ACME CORP 4TH QTR LOSS" each first word is missing from
    // the other headline; a re-titled re-send ("U.S. FARM CREDIT LOSS…" /
    // "FARM CREDIT LOSS…") keeps one. A longer text names its subject in the
    // body, where the shingles and figures compare it, and re-titled
    // re-sends of stories ("17 MISSING NORANDA MINERS…" / "SEVENTEEN MISSING
    // COPPER MINERS…") are common.
    let smaller = item.shingle_count.min(candidate.shingle_count) as usize;
    if smaller < config.short_shingles {
        if let (Some(a), Some(b)) = (item.headline_first, candidate.headline_first) {
            if a != b && !contains(&candidate.headline, a) && !contains(&item.headline, b) {
                return None;
            }
        }
        if headlines_diverge(item, candidate) {
            return None;
        }
    }

    let (a, b) = common_range(
        &item.shingles,
        item.shingle_count,
        &candidate.shingles,
        candidate.shingle_count,
    );
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let shared = intersection(a, b);
    let jaccard = shared as f32 / (a.len() + b.len() - shared) as f32;
    let (small, large, small_all) = if item.shingle_count <= candidate.shingle_count {
        (a, candidate, item)
    } else {
        (b, item, candidate)
    };
    let containment = shared as f32 / small.len() as f32;
    let similarity = if late {
        // Long after: only a close copy with every figure kept.
        if jaccard < config.late_jaccard {
            return None;
        }
        jaccard
    } else if jaccard >= config.jaccard {
        jaccard
    } else if containment >= config.containment
        && small_all.shingle_count as usize >= config.containment_min_shingles
    {
        containment
    } else {
        return None;
    };

    // Numbers: the smaller text's figures must (nearly) all be in the larger.
    let (small_numbers, large_numbers) = common_range(
        &small_all.numbers,
        small_all.number_count,
        &large.numbers,
        large.number_count,
    );
    let misses = small_numbers.len() - intersection(small_numbers, large_numbers);
    let allowed = if late {
        0
    } else {
        config
            .number_misses
            .max((config.number_miss_ratio * small_numbers.len() as f32) as usize)
    };
    (misses <= allowed).then_some(similarity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::fingerprint;
    use crate::sketch::tests::article;

    fn similarity(a: (&str, &str), b: (&str, &str)) -> Option<f32> {
        let config = DedupConfig::default();
        let fa = fingerprint(&article("a", a.0, a.1), &config);
        let fb = fingerprint(&article("b", b.0, b.1), &config);
        near_copy(&fb.sketch, &fa.sketch, false, &config)
    }

    // Reuters-21578 #3 (the body's first two paragraphs and the rest).
    const HEAD: &str = "TEXAS COMMERCE BANCSHARES <TCB> FILES PLAN";
    const P1: &str = "Texas Commerce Bancshares Inc's Texas Commerce Bank-Houston said it filed an application with the Comptroller of the Currency in an effort to create the largest banking network in Harris County.";
    const P2: &str = "The bank said the network would link 31 banks having 13.5 billion dlrs in assets and 7.5 billion dlrs in deposits.";
    const P3: &str = "Chairman Ben Love said the move would allow customers to bank at any of the network's locations, which now number 31, including branches of Texas Commerce.";

    #[test]
    fn first_take_and_correction_are_near_copies() {
        let full = format!("{P1}\n\n{P2}\n\n{P3}");
        let take = format!("{P1}\n\n{P2}");
        assert!(similarity((HEAD, &full), (HEAD, &take)).is_some_and(|s| s >= 0.99));
        let corrected = full.replace("13.5 billion", "13.6 billion");
        assert!(similarity((HEAD, &full), (HEAD, &corrected)).is_some());
        // Two figures of three changed is another story.
        let other = full
            .replace("13.5 billion", "2.1 billion")
            .replace("7.5 billion", "1.2 billion");
        assert_eq!(
            similarity((HEAD, &take), (HEAD, &other.replace(P3, ""))),
            None
        );
    }

    #[test]
    fn results_of_two_companies_are_not_copies() {
        // Reuters-21578 #11 and a made-up twin with other figures.
        let a = "Shr 34 cts vs 1.19 dlrs\n\nNet 3,821,000 vs 11.4 mln\n\nRevs 12.1 mln vs 16.7 mln\n\nAvg shrs 11.2 mln vs 9.6 mln";
        let b = "Shr 12 cts vs 10 cts\n\nNet 1,234,000 vs 980,000\n\nRevs 5.1 mln vs 4.7 mln\n\nAvg shrs 10.2 mln vs 9.8 mln";
        assert_eq!(
            similarity(
                ("CHAMPION PRODUCTS <CH> 4TH QTR NET", a),
                ("ACME CORP <ACM> 4TH QTR NET", b)
            ),
            None
        );
        // The same figures under another company's name and ticker: vetoed.
        assert_eq!(
            similarity(
                ("CHAMPION PRODUCTS <CH> 4TH QTR NET", a),
                ("ACME CORP 4TH QTR NET", a)
            ),
            None
        );
        // The same item re-sent with its headline shortened is a copy.
        assert_eq!(
            similarity(
                ("CHAMPION PRODUCTS <CH> 4TH QTR NET", a),
                ("CHAMPION 4TH QTR NET", a)
            ),
            Some(1.0)
        );
    }

    #[test]
    fn short_notices_of_two_subjects_are_not_copies() {
        // Reuters-21578 #16468 and #16473: two funds, one template.
        let body = |fund: &str| {
            format!("Franklin {fund} Insured Tax-Free Income Fund said it declared a monthly dividend of 5.8 cts per share, payable April 30 to holders of record April 15.")
        };
        assert_eq!(
            similarity(
                (
                    "FRANKLIN MASSACHUSETTS SETS MONTHLY PAYOUT",
                    &body("Massachusetts")
                ),
                (
                    "FRANKLIN CALIFORNIA SETS MONTHLY PAYOUT",
                    &body("California")
                )
            ),
            None
        );
        // A re-titled re-send only drops words: still a copy.
        assert!(similarity(
            (
                "FRANKLIN MASSACHUSETTS SETS MONTHLY PAYOUT",
                &body("Massachusetts")
            ),
            ("FRANKLIN MASSACHUSETTS PAYOUT", &body("Massachusetts"))
        )
        .is_some());
    }

    #[test]
    fn a_re_titled_story_is_a_copy() {
        // Reuters-21578 #12683 and #12692: the same story under a new
        // headline whose first word ("17" / "SEVENTEEN") is not in the other.
        // Long enough that the body, not the headline, names the subject.
        let body = |owner: &str| {
            format!("MURDOCHVILLE, Que., April 2 - Seventeen miners who were missing in a copper mine fire were found today and efforts were underway to rescue them and 29 others who were trapped but safe in an underground lunch room, officials said.\n\nThe mine's owner, {owner}, said one miner died in the fire, six miners escaped unharmed, 29 made it to an underground lunch room, where they had air and water, and 17 were later found safe in other lunch rooms.")
        };
        assert!(similarity(
            (
                "17 MISSING NORANDA MINERS FOUND ALIVE",
                &body("Noranda Inc. <NOR>")
            ),
            (
                "SEVENTEEN MISSING COPPER MINERS FOUND ALIVE",
                &body("Noranda Inc.")
            ),
        )
        .is_some_and(|s| s >= 0.9));
    }

    #[test]
    fn long_after_only_close_copies_with_the_same_figures_count() {
        // Reuters-21578 #3164 and #7207, ten days apart: the same notice
        // with a new amount.
        let config = DedupConfig::default();
        let notice = |amount: &str| {
            format!("The Federal Reserve entered the U.S. Government securities market to arrange {amount} billion dlrs of customer repurchase agreements, a Fed spokesman said. Dealers said Federal funds were trading at 6-3/16 pct when the Fed began its temporary and indirect supply of reserves to the banking system.")
        };
        let head = "FED ADDS RESERVES VIA CUSTOMER REPURCHASES";
        let a = fingerprint(&article("a", head, &notice("2.5")), &config);
        let b = fingerprint(&article("b", head, &notice("1.5")), &config);
        assert!(near_copy(&b.sketch, &a.sketch, false, &config).is_some());
        assert_eq!(near_copy(&b.sketch, &a.sketch, true, &config), None);
        let same = fingerprint(&article("c", head, &notice("2.5")), &config);
        assert_eq!(near_copy(&same.sketch, &a.sketch, true, &config), Some(1.0));
    }

    #[test]
    fn common_range_cuts_full_samples() {
        let (a, b) = common_range(&[1, 5, 9], 10, &[1, 2, 3, 4, 5, 6, 7, 20], 8);
        assert_eq!((a, b), (&[1, 5, 9][..], &[1, 2, 3, 4, 5, 6, 7][..]));
        assert_eq!(intersection(a, b), 2);
    }
}
