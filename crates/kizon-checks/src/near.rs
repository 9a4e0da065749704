//! Near-duplicate groups by perceptual hash (Q7 `near-duplicate`), in time and memory that grow
//! with the *distinct* images, not with the pairs of items.
//!
//! The relation: two image items are near duplicates when their perceptual hashes are within
//! `bits` bits, they belong to different cases, and they are not the same content (different
//! files and, where both decoded, different pixels: `same-file` and `same-pixels` say those).
//! A finding is a connected group of that relation.
//!
//! Why not the pairs of items: a study holds many copies of one image by design or by error
//! (the million-item benchmark holds 4,370 copies of each of 229 images), and every copy's hash
//! is within 0 bits of every other's, so the item pairs number n²/2 per image: 21.8 million
//! pairs and 3.9 GB at 10^5 items. Instead, items are gathered into *classes* of the same
//! content and hash (no relation inside a class: same content), the hash search runs over one
//! hash per class, and each pair of near classes joins its items by case: between classes A and
//! B an item of case c meets every item of the other class in a case other than c. Within such
//! a pair the components are found by a search over the *complement* of "same case" (each
//! case-node visits every unvisited node of the other side except its own case), which costs
//! the pair's cases, not their product.
//!
//! Invariant relied on: an item's decode is a function of its file (kizon decodes each file
//! once, by SHA-256), so two items of one file fall into one class.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One decoded image as the near-duplicate search sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hashed<'a> {
    pub case: &'a str,
    /// The file's SHA-256.
    pub file: &'a str,
    /// The decoded pixels' SHA-256, when they could be hashed.
    pub pixels: Option<&'a str>,
    pub phash: u64,
}

impl Hashed<'_> {
    /// The content an item shares with every item it must not be paired with: its decoded
    /// pixels, or failing those its file.
    fn content(&self) -> (bool, &str) {
        match self.pixels {
            Some(p) => (true, p),
            None => (false, self.file),
        }
    }
}

/// The near-duplicate groups of `items`: connected components of two or more items, each as
/// ascending indices into `items`, ordered by their smallest index.
pub(crate) fn near_duplicate_groups(items: &[Hashed<'_>], bits: u32) -> Vec<Vec<usize>> {
    // Classes: same content and same hash, each with its items in ascending order.
    let mut class_of: HashMap<((bool, &str), u64), usize> = HashMap::new();
    let mut classes: Vec<Vec<usize>> = Vec::new();
    let mut keys: Vec<((bool, &str), u64)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = (item.content(), item.phash);
        let class = *class_of.entry(key).or_insert_with(|| {
            classes.push(Vec::new());
            keys.push(key);
            classes.len() - 1
        });
        classes[class].push(i);
    }
    let hashes: Vec<u64> = keys.iter().map(|k| k.1).collect();
    let mut parent: Vec<usize> = (0..items.len()).collect();
    for (a, b) in kizon_pixels::near_duplicate_pairs(&hashes, bits) {
        if keys[a].0 == keys[b].0 {
            continue; // the same content under two hashes: never a near duplicate of itself
        }
        join_across_cases(items, &classes[a], &classes[b], &mut parent);
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..items.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// The representative of `i`'s set (path halving). Sets are joined under their smallest index,
/// so a group's root is its first item.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn join(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (root(parent, a), root(parent, b));
    parent[ra.max(rb)] = ra.min(rb);
}

/// Joins the items of classes `a` and `b` as the relation does: an item of `a` in case c with
/// every item of `b` in a case other than c. Nodes are (side, case); a node with any neighbour
/// joins all its items.
fn join_across_cases(items: &[Hashed<'_>], a: &[usize], b: &[usize], parent: &mut [usize]) {
    let by_case = |class: &[usize]| {
        let mut nodes: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in class {
            nodes.entry(items[i].case).or_default().push(i);
        }
        nodes
    };
    let sides = [by_case(a), by_case(b)];
    let mut unvisited: [BTreeSet<&str>; 2] = [
        sides[0].keys().copied().collect(),
        sides[1].keys().copied().collect(),
    ];
    while let Some(&start) = unvisited[0].iter().next() {
        unvisited[0].remove(start);
        // A breadth-first search of one component over the complement of "same case".
        let mut component: Vec<(usize, &str)> = vec![(0, start)];
        let mut next = 0;
        while next < component.len() {
            let (side, case) = component[next];
            next += 1;
            let other = 1 - side;
            let reached: Vec<&str> = unvisited[other]
                .iter()
                .copied()
                .filter(|c| *c != case)
                .collect();
            for c in reached {
                unvisited[other].remove(c);
                component.push((other, c));
            }
        }
        if component.len() < 2 {
            continue; // a case alone on its side of the pair: no neighbour
        }
        let first = sides[component[0].0][component[0].1][0];
        for (side, case) in component {
            for &i in &sides[side][case] {
                join(parent, first, i);
            }
        }
    }
    // Nodes of side b left unvisited met no node of side a in another case: no neighbour.
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relation itself, pair by pair, and its components: the reference the grouping must
    /// equal.
    fn brute_force(items: &[Hashed<'_>], bits: u32) -> Vec<Vec<usize>> {
        let mut parent: Vec<usize> = (0..items.len()).collect();
        for i in 0..items.len() {
            for j in i + 1..items.len() {
                let (x, y) = (items[i], items[j]);
                let same_content = x.pixels.is_some() && x.pixels == y.pixels;
                if (x.phash ^ y.phash).count_ones() <= bits
                    && x.case != y.case
                    && !same_content
                    && x.file != y.file
                {
                    join(&mut parent, i, j);
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..items.len() {
            let r = root(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }
        groups.into_values().filter(|g| g.len() > 1).collect()
    }

    /// A small deterministic generator (xorshift64*, Vigna 2016): the tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        }
    }

    const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

    /// Random studies of few cases, files, contents and hashes, so that every shape occurs:
    /// copies in one case and across cases, one content under two hashes, undecoded files,
    /// hashes one bit apart and far apart.
    #[test]
    fn groups_equal_the_pairwise_relation_on_random_studies() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..3000 {
            let n = 1 + rng.below(14) as usize;
            let files = 1 + rng.below(6);
            let hashes = [0u64, 1, 3, 0xFF, 0xFFFF_0000_0000_0000];
            // Each file has one decode (the invariant): its pixels (maybe none) and hash.
            let decode: Vec<(Option<&str>, u64)> = (0..files)
                .map(|_| {
                    let pixels = match rng.below(4) {
                        0 => None,
                        k => Some(NAMES[k as usize]),
                    };
                    (pixels, hashes[rng.below(hashes.len() as u64) as usize])
                })
                .collect();
            let items: Vec<Hashed<'_>> = (0..n)
                .map(|_| {
                    let f = rng.below(files) as usize;
                    Hashed {
                        case: NAMES[rng.below(4) as usize],
                        file: NAMES[f],
                        pixels: decode[f].0,
                        phash: decode[f].1,
                    }
                })
                .collect();
            for bits in [0, 1, 8] {
                assert_eq!(
                    near_duplicate_groups(&items, bits),
                    brute_force(&items, bits),
                    "round {round}, {bits} bits: {items:?}"
                );
            }
        }
    }

    /// Many copies of two near images, each copy its own case: one group of all of them, found
    /// from two classes (the item pairs would number 2·10^7).
    #[test]
    fn many_copies_are_grouped_through_their_classes() {
        let cases: Vec<String> = (0..6000).map(|i| format!("C{i:05}")).collect();
        let items: Vec<Hashed<'_>> = cases
            .iter()
            .enumerate()
            .map(|(i, case)| Hashed {
                case,
                file: if i % 2 == 0 { "f1" } else { "f2" },
                pixels: Some(if i % 2 == 0 { "p1" } else { "p2" }),
                phash: if i % 2 == 0 { 0 } else { 0b111 },
            })
            .collect();
        let groups = near_duplicate_groups(&items, 8);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), 6000);
        // Out of reach at 2 bits: no group.
        assert!(near_duplicate_groups(&items, 2).is_empty());
    }

    /// Two cases that each hold both images: the pairs cross (case A's first with case B's
    /// second, and B's first with A's second), two groups and not one.
    #[test]
    fn crossing_cases_make_two_groups() {
        let item = |case, file, pixels, phash| Hashed {
            case,
            file,
            pixels: Some(pixels),
            phash,
        };
        let items = [
            item("A", "f1", "p1", 0),
            item("B", "f1", "p1", 0),
            item("A", "f2", "p2", 1),
            item("B", "f2", "p2", 1),
        ];
        assert_eq!(near_duplicate_groups(&items, 1), [vec![0, 3], vec![1, 2]]);
        assert_eq!(near_duplicate_groups(&items, 1), brute_force(&items, 1));
    }
}
