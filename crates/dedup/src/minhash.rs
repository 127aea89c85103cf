//! MinHash signatures and their LSH band keys.
//!
//! One-permutation hashing with optimal densification (Shrivastava, 2017):
//! each shingle's hash picks one of `count` bins by its top bits and the
//! bin keeps the smallest of its other bits; an empty bin (short texts)
//! borrows the value of the first non-empty bin on its own fixed,
//! pseudo-random probe sequence. Two articles agree on one bin with
//! probability equal to the Jaccard similarity of their shingle sets, as
//! with `count` independent hash functions, but each shingle costs one
//! comparison instead of `count` multiplications (it was the largest cost
//! of fingerprinting). They share a band key (all `rows` values of a band)
//! with probability `J^rows`, and become candidates when any of `bands`
//! keys match: `1 - (1 - J^rows)^bands`. With 32 bands of 2 rows that is
//! 0.9999 at J = 0.7, 0.95 at J = 0.3 and 0.73 at J = 0.2: a wide net, so
//! that an update or a re-written first take (low Jaccard, high
//! containment) meets its story; verification then decides.

use crate::hash;

/// The MinHash signature of a set of shingle hashes (`count` values).
/// Repeats in `shingles` change nothing: a bin keeps the minimum.
pub(crate) fn signature(shingles: &[u64], count: usize) -> Vec<u32> {
    let mut mins = vec![u32::MAX; count];
    let mut filled = vec![false; count];
    if count == 0 || shingles.is_empty() {
        return mins;
    }
    for &shingle in shingles {
        // Re-mixed so that the bin does not depend on how the shingle hash
        // was built; the high half picks the bin, the low half competes.
        let h = hash::mix(shingle ^ 0x6d69_6e68_6173_6800);
        let bin = (((h >> 32) * count as u64) >> 32) as usize;
        let value = h as u32;
        if value < mins[bin] || !filled[bin] {
            mins[bin] = mins[bin].min(value);
            filled[bin] = true;
        }
    }
    // Optimal densification: bin i probes bins mix(i, attempt) until one was
    // filled by a shingle. The probe sequence depends on i only, so two
    // texts borrow from the same bins.
    let own = mins.clone();
    for (i, min) in mins.iter_mut().enumerate() {
        if filled[i] {
            continue;
        }
        let mut attempt = 0u64;
        loop {
            attempt += 1;
            let probe = hash::combine(i as u64 + 1, attempt);
            let j = (((probe >> 32) * count as u64) >> 32) as usize;
            if filled[j] {
                *min = own[j];
                break;
            }
        }
    }
    mins
}

/// One key per band: a hash of the band number and its `rows` values.
pub(crate) fn band_keys(signature: &[u32], rows: usize) -> impl Iterator<Item = u64> + '_ {
    signature
        .chunks_exact(rows.max(1))
        .enumerate()
        .map(|(band, values)| {
            values.iter().fold(hash::mix(band as u64 + 1), |h, &v| {
                hash::combine(h, u64::from(v))
            })
        })
}

/// The key of the opening `n` shingles, in order: equal for a first take and
/// its full story (and an update that added paragraphs below the top).
pub(crate) fn lead_key(shingles: &[u64], n: usize) -> Option<u64> {
    (n > 0 && shingles.len() >= n).then(|| {
        shingles[..n]
            .iter()
            .fold(hash::mix(0x1ead), |h, &s| hash::combine(h, s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_estimates_jaccard() {
        // Two sets of 200 sharing 150: J = 150 / 250 = 0.6.
        let a: Vec<u64> = (0..200u64).map(hash::mix).collect();
        let b: Vec<u64> = (50..250u64).map(hash::mix).collect();
        let (sa, sb) = (signature(&a, 256), signature(&b, 256));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
        assert!((agree - 0.6).abs() < 0.1, "{agree}");
        let same: Vec<u64> = band_keys(&sa, 4).collect();
        assert_eq!(same.len(), 64);
        assert_eq!(same, band_keys(&signature(&a, 256), 4).collect::<Vec<_>>());
    }

    #[test]
    fn repeats_change_no_signature() {
        let set: Vec<u64> = (0..50u64).map(hash::mix).collect();
        let mut repeated = set.clone();
        repeated.extend_from_slice(&set[..20]);
        repeated.reverse();
        assert_eq!(signature(&set, 64), signature(&repeated, 64));
    }

    #[test]
    fn lead_key_needs_enough_shingles() {
        let s: Vec<u64> = (0..20).collect();
        assert_eq!(lead_key(&s, 10), lead_key(&s[..12], 10));
        assert_eq!(lead_key(&s[..9], 10), None);
        assert_eq!(lead_key(&s, 0), None);
    }
}
