//! MinHash signatures and their LSH band keys.
//!
//! Each of `bands * rows` hash functions `h_i(x) = (a_i * x + b_i) >> 32`
//! (multiply-shift, with odd `a_i`) keeps its minimum over the shingles. Two
//! articles agree on one value with probability equal to the Jaccard
//! similarity of their shingle sets; they share a band key (all `rows`
//! values of a band) with probability `J^rows`, and become candidates when
//! any of `bands` keys match: `1 - (1 - J^rows)^bands`. With 16 bands of 4
//! rows that is 0.99 at J = 0.7 and 0.12 at J = 0.3.

use crate::hash;

/// The MinHash signature of a set of shingle hashes (`count` values).
pub(crate) fn signature(shingles: &[u64], count: usize) -> Vec<u32> {
    let params: Vec<(u64, u64)> = (0..count as u64)
        .map(|i| (hash::mix(i * 2 + 1) | 1, hash::mix(i * 2 + 2)))
        .collect();
    let mut mins = vec![u32::MAX; count];
    for &shingle in shingles {
        for (min, &(a, b)) in mins.iter_mut().zip(&params) {
            let value = (a.wrapping_mul(shingle).wrapping_add(b) >> 32) as u32;
            if value < *min {
                *min = value;
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
    fn lead_key_needs_enough_shingles() {
        let s: Vec<u64> = (0..20).collect();
        assert_eq!(lead_key(&s, 10), lead_key(&s[..12], 10));
        assert_eq!(lead_key(&s[..9], 10), None);
        assert_eq!(lead_key(&s, 0), None);
    }
}
