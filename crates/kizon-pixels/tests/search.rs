//! The near-duplicate search equals brute force (property tests on random and clustered hashes).

use kizon_pixels::{brute_force_pairs, indexed_pairs, near_duplicate_pairs};
use proptest::prelude::*;

/// Hashes near a few centres: each is a centre with up to `spread` random bits flipped.
fn clustered(centres: Vec<u64>, flips: Vec<(usize, Vec<u8>)>) -> Vec<u64> {
    flips
        .into_iter()
        .map(|(c, bits)| {
            let mut h = centres[c % centres.len()];
            for b in bits {
                h ^= 1u64 << (b % 64);
            }
            h
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_hashes_give_the_brute_force_pairs(
        hashes in prop::collection::vec(any::<u64>(), 0..400),
        d in 0u32..20,
    ) {
        if let Some(pairs) = indexed_pairs(&hashes, d) {
            prop_assert_eq!(pairs, brute_force_pairs(&hashes, d));
        }
    }

    #[test]
    fn clustered_hashes_give_the_brute_force_pairs(
        centres in prop::collection::vec(any::<u64>(), 1..6),
        flips in prop::collection::vec((0usize..6, prop::collection::vec(0u8..64, 0..12)), 0..300),
        d in 0u32..16,
    ) {
        let hashes = clustered(centres, flips);
        let expected = brute_force_pairs(&hashes, d);
        let pairs = indexed_pairs(&hashes, d);
        prop_assert!(pairs.is_some());
        prop_assert_eq!(pairs.unwrap(), expected);
    }
}

#[test]
fn a_large_clustered_input_matches_brute_force() {
    // 6,000 hashes in 50 clusters: above the brute-force threshold, with many true pairs.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let centres: Vec<u64> = (0..50).map(|_| next()).collect();
    let hashes: Vec<u64> = (0..6000)
        .map(|i| {
            let mut h = centres[i % 50];
            for _ in 0..(next() % 7) {
                h ^= 1 << (next() % 64);
            }
            h
        })
        .collect();
    let expected = brute_force_pairs(&hashes, 8);
    assert!(expected.len() > 10_000, "{}", expected.len());
    assert_eq!(near_duplicate_pairs(&hashes, 8), expected);
}
