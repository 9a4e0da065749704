//! All pairs of 64-bit hashes within a Hamming distance, exactly and in sub-quadratic time.
//!
//! Method: multi-index hashing by the pigeonhole principle (Norouzi, Punjani & Fleet 2012,
//! *Fast Search in Hamming Space with Multi-Index Hashing*, CVPR; Manku, Jain & Das Sarma 2007,
//! *Detecting Near-Duplicates for Web Crawling*, WWW, for the sorted permuted-block form used
//! here). Split the 64 bits into `m = d + k` contiguous blocks. Two hashes at distance ≤ d
//! differ in at most d blocks, so at least k blocks are identical. For every choice of k blocks
//! (C(m, k) "tables"), sort the hashes by the bits of those blocks (a counting sort on the
//! concatenated key) and compare all pairs within each group of equal keys. Every pair within
//! d is found in the table of its *first* k identical blocks, and is reported only there, so
//! the result holds each pair once and equals brute force.
//!
//! Tables that share their first block share its work: the hashes are bucketed once by that
//! block (counting sort), and each bucket — about n / 2^6 hashes for d = 8, small enough for
//! the cache — is split by the remaining k - 1 blocks of every such table. One rayon task per
//! first block; the popcount loop is compiled for the POPCNT instruction where the CPU has it.
//!
//! Why this rather than probing MIH tables or a BK-tree: for all pairs (a self-join, not one
//! query) the work is counting sorts and scans of small contiguous groups that stay in cache,
//! while probing the substring neighbourhoods of Norouzi's search (C(21,0..2) = 232 probes per
//! substring for 64 bits in 3 substrings at d = 8) or walking a BK-tree costs a random memory
//! access per probe. The alternatives were estimated, not implemented; this form meets the goal
//! (10^6 random hashes in 3–7 s on this 2-core machine while other builds run, see
//! bench/pixels/run.sh). k is chosen by a cost model (tables × (sort cost + expected
//! comparisons per table)); d = 8 gives m = 11, k = 3: 165 tables with 17–18-bit keys.
//! Inputs of at most 2,000 hashes use brute force.

use rayon::prelude::*;

/// The default distance for near duplicates: pHashes of the same image under lossy
/// re-encoding are typically within 8 of 64 bits.
pub const DEFAULT_MAX_DISTANCE: u32 = 8;

/// The number of differing bits.
#[inline]
pub fn hamming_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Every pair `(i, j)`, `i < j`, of indices into `hashes` with
/// `hamming_distance(hashes[i], hashes[j]) <= max_distance`, sorted.
pub fn near_duplicate_pairs(hashes: &[u64], max_distance: u32) -> Vec<(usize, usize)> {
    let n = hashes.len();
    if n < 2 {
        return Vec::new();
    }
    if n <= 2000 {
        return brute_force_pairs(hashes, max_distance);
    }
    indexed_pairs(hashes, max_distance).unwrap_or_else(|| brute_force_pairs(hashes, max_distance))
}

/// The multi-index search whatever the input size (`None` when no block split pays off, for
/// large distances); [`near_duplicate_pairs`] calls it for inputs over 2,000 hashes. Public
/// so that property tests can compare it with brute force on small inputs.
pub fn indexed_pairs(hashes: &[u64], max_distance: u32) -> Option<Vec<(usize, usize)>> {
    let (m, k) = plan(hashes.len().max(2), max_distance)?;
    let blocks = split(m);
    // Tables are grouped by their first block: the input is bucketed once by that block, and
    // each bucket (small enough for the cache) is then split by the remaining k - 1 blocks of
    // every table that starts with it.
    let firsts: Vec<u32> = (0..=m - k).collect();
    let mut pairs: Vec<(usize, usize)> = firsts
        .par_iter()
        .map_init(Scratch::default, |scratch, &first| {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("popcnt") {
                // SAFETY: the CPU has the POPCNT instruction.
                return unsafe {
                    first_block_pairs_popcnt(hashes, max_distance, &blocks, first, k, scratch)
                };
            }
            first_block_pairs(hashes, max_distance, &blocks, first, k, scratch)
        })
        .flatten_iter()
        .collect();
    pairs.sort_unstable();
    Some(pairs)
}

/// The reference: all pairs compared, O(n²).
pub fn brute_force_pairs(hashes: &[u64], max_distance: u32) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = (0..hashes.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let hi = hashes[i];
            hashes[i + 1..]
                .iter()
                .enumerate()
                .filter(move |(_, h)| hamming_distance(hi, **h) <= max_distance)
                .map(move |(o, _)| (i, i + 1 + o))
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

/// Chooses (m, k) minimising the estimated work: C(m, k) tables, each costing a pass over the
/// n hashes plus the expected comparisons within groups of equal key.
fn plan(n: usize, d: u32) -> Option<(u32, u32)> {
    let n = n as f64;
    let mut best: Option<(f64, u32, u32)> = None;
    for k in 1..=6u32 {
        let m = d + k;
        if m > 64 {
            break;
        }
        let tables = binomial(m, k);
        if tables > 5000.0 {
            continue;
        }
        let key_bits = 64.0 * f64::from(k) / f64::from(m);
        let compares = n * n / 2.0 / key_bits.exp2();
        // Counting sort up to COUNTING_BITS-bit keys, comparison sort beyond.
        let sort = if key_bits <= f64::from(COUNTING_BITS) {
            8.0 * n + key_bits.exp2()
        } else {
            8.0 * n * n.log2().max(1.0)
        };
        let cost = tables * (sort + compares);
        if best.is_none_or(|(c, _, _)| cost < c) {
            best = Some((cost, m, k));
        }
    }
    best.map(|(_, m, k)| (m, k))
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// m contiguous bit blocks covering 0..64, as (shift, width, mask).
fn split(m: u32) -> Vec<(u32, u32, u64)> {
    let mut blocks = Vec::with_capacity(m as usize);
    let mut start = 0;
    for b in 0..m {
        let width = 64 / m + u32::from(b < 64 % m);
        let mask = if width == 64 {
            u64::MAX
        } else {
            ((1u64 << width) - 1) << start
        };
        blocks.push((start, width, mask));
        start += width;
    }
    blocks
}

/// All k-subsets of 0..m, in lexicographic order.
fn combinations(m: u32, k: u32) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut combo: Vec<u32> = (0..k).collect();
    loop {
        out.push(combo.clone());
        let mut i = k as usize;
        loop {
            if i == 0 {
                return out;
            }
            i -= 1;
            if combo[i] < m - k + i as u32 {
                combo[i] += 1;
                for j in i + 1..k as usize {
                    combo[j] = combo[j - 1] + 1;
                }
                break;
            }
        }
    }
}

/// The pairs found in the table of blocks `combo` whose first k identical blocks are `combo`.
/// Buffers reused by one thread.
#[derive(Default)]
struct Scratch {
    outer: Vec<(u64, u32)>,
    inner: Vec<(u64, u32)>,
    counts: Vec<u32>,
}

/// Sorts `items` by `key` (of `bits` bits) into `out` and calls `each` with every run of
/// equal key: a counting sort when the key space is small against the items, a comparison sort
/// otherwise.
#[inline(always)]
fn group_by(
    items: &[(u64, u32)],
    bits: u32,
    key: impl Fn(u64) -> u64,
    out: &mut Vec<(u64, u32)>,
    counts: &mut Vec<u32>,
    mut each: impl FnMut(&[(u64, u32)]),
) {
    out.clear();
    let buckets = 1usize.checked_shl(bits).unwrap_or(usize::MAX);
    if bits <= COUNTING_BITS && buckets <= items.len().saturating_mul(4).max(256) {
        counts.clear();
        counts.resize(buckets + 1, 0);
        for &(h, _) in items {
            counts[key(h) as usize + 1] += 1;
        }
        for b in 0..buckets {
            counts[b + 1] += counts[b];
        }
        out.resize(items.len(), (0, 0));
        for &item in items {
            let at = &mut counts[key(item.0) as usize];
            out[*at as usize] = item;
            *at += 1;
        }
        // counts[b] now holds the end of bucket b.
        let mut start = 0;
        for &end in &counts[..buckets] {
            let end = end as usize;
            if end > start {
                each(&out[start..end]);
            }
            start = end;
        }
    } else {
        out.extend_from_slice(items);
        out.sort_unstable_by_key(|&(h, _)| key(h));
        for run in out.chunk_by(|a, b| key(a.0) == key(b.0)) {
            each(run);
        }
    }
}

/// [`first_block_pairs`] compiled with the POPCNT instruction (the x86-64 baseline lacks it,
/// and `count_ones` is then a dozen instructions).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn first_block_pairs_popcnt(
    hashes: &[u64],
    d: u32,
    blocks: &[(u32, u32, u64)],
    first: u32,
    k: u32,
    scratch: &mut Scratch,
) -> Vec<(usize, usize)> {
    first_block_pairs(hashes, d, blocks, first, k, scratch)
}

/// The pairs of every table whose first block is `first`.
#[inline(always)]
fn first_block_pairs(
    hashes: &[u64],
    d: u32,
    blocks: &[(u32, u32, u64)],
    first: u32,
    k: u32,
    scratch: &mut Scratch,
) -> Vec<(usize, usize)> {
    let m = blocks.len() as u32;
    let masks: Vec<u64> = blocks.iter().map(|b| b.2).collect();
    // The key of a set of blocks: their bits side by side, as (shift, mask, offset) per block.
    let block_key = |parts: &[u32]| {
        let mut spec = [(0u32, 0u64, 0u32); 4];
        let mut bits = 0u32;
        let mut wide = Vec::new();
        for (i, &b) in parts.iter().enumerate() {
            let (shift, width, _) = blocks[b as usize];
            let mask = u64::MAX.checked_shr(64 - width).unwrap_or(0);
            if i < 4 {
                spec[i] = (shift, mask, bits);
            } else {
                wide.push((shift, mask, bits));
            }
            bits += width;
        }
        let n = parts.len().min(4);
        let key = move |h: u64| {
            let mut key = 0u64;
            for &(shift, mask, offset) in spec[..n].iter().chain(&wide) {
                key |= ((h >> shift) & mask).checked_shl(offset).unwrap_or(0);
            }
            key
        };
        (bits, key)
    };
    // The other k - 1 blocks of each table that starts with `first`.
    let rests: Vec<Vec<u32>> = combinations(m - first - 1, k - 1)
        .into_iter()
        .map(|c| c.iter().map(|b| b + first + 1).collect())
        .collect();
    let items: Vec<(u64, u32)> = hashes
        .iter()
        .enumerate()
        .map(|(i, &h)| (h, i as u32))
        .collect();
    let (bits, key) = block_key(&[first]);
    let Scratch {
        outer,
        inner,
        counts,
    } = scratch;
    let mut pairs = Vec::new();
    let mut combo = Vec::with_capacity(k as usize);
    let rest_keys: Vec<_> = rests.iter().map(|rest| block_key(rest)).collect();
    let mut inner_counts = Vec::new();
    group_by(&items, bits, key, outer, counts, |bucket| {
        if bucket.len() < 2 {
            return;
        }
        for (rest, (bits, key)) in rests.iter().zip(&rest_keys) {
            combo.clear();
            combo.push(first);
            combo.extend_from_slice(rest);
            if rest.is_empty() {
                compare_group(bucket, d, &masks, &combo, k, &mut pairs);
                continue;
            }
            group_by(bucket, *bits, key, inner, &mut inner_counts, |group| {
                if group.len() >= 2 {
                    compare_group(group, d, &masks, &combo, k, &mut pairs);
                }
            });
        }
    });
    pairs
}

const COUNTING_BITS: u32 = 22;

/// All pairs within a group of equal key, each kept only in the table of its first k
/// identical blocks.
#[inline(always)]
fn compare_group(
    group: &[(u64, u32)],
    d: u32,
    masks: &[u64],
    combo: &[u32],
    k: u32,
    pairs: &mut Vec<(usize, usize)>,
) {
    for (x, &(hx, ix)) in group.iter().enumerate() {
        for &(hy, iy) in &group[x + 1..] {
            let diff = hx ^ hy;
            if diff.count_ones() > d {
                continue;
            }
            // Report the pair only in the table of its first k identical blocks.
            let mut first = Vec::with_capacity(k as usize);
            for (bi, &mask) in masks.iter().enumerate() {
                if diff & mask == 0 {
                    first.push(bi as u32);
                    if first.len() == k as usize {
                        break;
                    }
                }
            }
            if first == combo {
                let (i, j) = (ix.min(iy) as usize, ix.max(iy) as usize);
                pairs.push((i, j));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_64_bits_once() {
        for m in 1..=64 {
            let blocks = split(m);
            let all = blocks.iter().fold(0u64, |acc, b| {
                assert_eq!(acc & b.2, 0);
                acc | b.2
            });
            assert_eq!(all, u64::MAX, "m = {m}");
        }
    }

    #[test]
    fn combinations_are_lexicographic() {
        assert_eq!(
            combinations(4, 2),
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(combinations(11, 3).len(), 165);
    }

    #[test]
    fn distance_eight_uses_eleven_blocks_of_which_three_agree() {
        assert_eq!(plan(1_000_000, 8), Some((11, 3)));
    }
}
