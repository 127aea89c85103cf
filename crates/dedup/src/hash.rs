//! Small, fast, deterministic hashes. The digests end up in Postgres and are
//! compared across processes and versions, so they must never depend on a
//! random seed (as std's `RandomState` does).

/// SplitMix64's finaliser: a bijection on u64 that mixes every input bit.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FNV-1a over the bytes, then mixed.
pub(crate) fn bytes(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// [`bytes`] of the ASCII-lower-cased bytes, without the copy.
pub(crate) fn bytes_lower(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Combines an ordered pair of hashes.
pub(crate) fn combine(a: u64, b: u64) -> u64 {
    mix(a.rotate_left(23) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The 32-bit digest kept in sketches.
pub(crate) fn digest(h: u64) -> u32 {
    (h >> 32) as u32 ^ h as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cased_hash_equals_hash_of_lower_case() {
        assert_eq!(bytes_lower(b"Shr 1,234 U.S."), bytes(b"shr 1,234 u.s."));
    }
}
