//! Bootstrap confidence intervals for the AUC.
//!
//! Resampling (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*):
//! - **stratified by truth**: positives and negatives are resampled separately, so
//!   every replicate keeps the study's class sizes (as pROC's `ci.auc(method =
//!   "bootstrap")` does);
//! - **clustered by patient**: whole patients are resampled with all their
//!   observations (Field & Welsh 2007, *J R Stat Soc B* 69:369–390), for several
//!   images or lesions per patient. A replicate that happens to draw no positive or no negative observation has no
//!   AUC; it is dropped and counted in `degenerate_replicates`.
//!
//! The scores are sorted once. A replicate is then a vector of multiplicities over the
//! tie groups of that fixed order, and its AUC is an O(N) integer sweep; nothing is
//! re-sorted per replicate.
//!
//! Intervals, both exactly as R's `boot` package computes them (Davison & Hinkley 1997,
//! *Bootstrap Methods and their Application*, §5.3 and eq. 5.8), so `boot.ci` is the
//! oracle: order statistics interpolated on the normal quantile scale (`norm.inter`).
//! - percentile: the `α/2` and `1 − α/2` quantiles of the replicates;
//! - BCa: Efron (1987), *JASA* 82:171–185, bias correction `z0 = Φ⁻¹(#{θ* < θ̂}/B)`
//!   and acceleration `a = ΣL³ / (6 (ΣL²)^{3/2})` from jackknife influence values
//!   `L_i = (n_s − 1)(θ̂ − θ̂₍₋ᵢ₎)` within each stratum (positives, negatives) or over
//!   patients, as `boot::empinf(type = "jack")`. Leave-one-out AUCs come from the
//!   placements in O(N) total.
//!
//! Randomness is ChaCha8 seeded by the caller, and integers are drawn by Lemire's
//! multiply-shift with rejection, so a seed gives the same replicates on every platform
//! and with every version of the `rand` crates.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::Serialize;

use crate::dist::{normal_cdf, normal_quantile};
use crate::error::StatsError;
use crate::estimate::{Estimate, check_level};
use crate::roc::{SortedScores, TieGroup, split_by_truth};

/// How cases are resampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resampling<'a> {
    /// Positives and negatives separately.
    Stratified,
    /// Whole clusters (patients); one cluster id per observation, aligned with the scores.
    Clustered(&'a [u64]),
}

/// Bootstrap intervals of the AUC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapAuc {
    /// The AUC with its percentile interval.
    pub percentile: Estimate,
    /// The AUC with its BCa interval; `null` when the bias correction or acceleration is
    /// undefined (every replicate on one side of the estimate, or no jackknife spread).
    pub bca: Option<Estimate>,
    /// `stratified` or `clustered`.
    pub resampling: &'static str,
    pub replicates: usize,
    pub degenerate_replicates: usize,
    pub seed: u64,
}

/// Bootstrap percentile and BCa intervals of the AUC at `level` from `replicates`
/// resamples drawn with `seed`.
pub fn bootstrap_auc(
    scores: &[f64],
    truth: &[bool],
    resampling: Resampling<'_>,
    replicates: usize,
    seed: u64,
    level: f64,
) -> Result<BootstrapAuc, StatsError> {
    check_level(level)?;
    if replicates < 2 {
        return Err(StatsError::InvalidArgument(format!(
            "the bootstrap needs at least 2 replicates, got {replicates}"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (estimate, draws, influence, name) = match resampling {
        Resampling::Stratified => {
            let layout = Layout::new(SortedScores::new(scores, truth)?);
            let draws = layout.stratified(replicates, &mut rng);
            (
                layout.auc(),
                draws,
                layout.stratified_influence(),
                "stratified",
            )
        }
        Resampling::Clustered(ids) => {
            if ids.len() != scores.len() {
                return Err(StatsError::LengthMismatch {
                    what: "cluster ids and scores",
                    left: ids.len(),
                    right: scores.len(),
                });
            }
            let clustered = Clustered::new(scores, truth, ids)?;
            let draws = clustered.replicates(replicates, &mut rng);
            (
                clustered.layout.auc(),
                draws,
                clustered.influence(),
                "clustered",
            )
        }
    };
    let degenerate = replicates - draws.len();
    if draws.len() < 2 {
        return Err(StatsError::InvalidArgument(format!(
            "only {} of {replicates} cluster bootstrap replicates had both classes",
            draws.len()
        )));
    }
    Ok(BootstrapAuc {
        percentile: percentile_interval(&draws, estimate, level)?,
        bca: influence.map_or(Ok(None), |l| bca_interval(&draws, estimate, &l, level))?,
        resampling: name,
        replicates,
        degenerate_replicates: degenerate,
        seed,
    })
}

/// Tie groups of the sorted scores and the group of every sorted observation.
struct Layout {
    sorted: SortedScores,
    groups: Vec<TieGroup>,
    pos_group: Vec<u32>,
    neg_group: Vec<u32>,
}

impl Layout {
    fn new(sorted: SortedScores) -> Self {
        let groups: Vec<TieGroup> = sorted.groups().collect();
        let mut pos_group = Vec::with_capacity(sorted.pos.len());
        let mut neg_group = Vec::with_capacity(sorted.neg.len());
        for (g, group) in groups.iter().enumerate() {
            pos_group.extend(std::iter::repeat_n(g as u32, group.pos as usize));
            neg_group.extend(std::iter::repeat_n(g as u32, group.neg as usize));
        }
        Layout {
            sorted,
            groups,
            pos_group,
            neg_group,
        }
    }

    fn m(&self) -> u64 {
        self.sorted.pos.len() as u64
    }

    fn n(&self) -> u64 {
        self.sorted.neg.len() as u64
    }

    /// `2·Σ` pairs won by positives (ties ½) over all observations.
    fn u2(&self) -> u128 {
        self.groups
            .iter()
            .map(|g| g.pos as u128 * g.pos_placement() as u128)
            .sum()
    }

    fn auc(&self) -> f64 {
        self.u2() as f64 / (2.0 * self.m() as f64 * self.n() as f64)
    }

    fn stratified(&self, replicates: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let mut wp = vec![0u64; self.groups.len()];
        let mut wn = vec![0u64; self.groups.len()];
        (0..replicates)
            .map(|_| {
                wp.fill(0);
                wn.fill(0);
                for _ in 0..self.m() {
                    wp[self.pos_group[uniform(rng, self.m()) as usize] as usize] += 1;
                }
                for _ in 0..self.n() {
                    wn[self.neg_group[uniform(rng, self.n()) as usize] as usize] += 1;
                }
                weighted_auc(&wp, &wn).expect("stratified replicates keep both classes")
            })
            .collect()
    }

    /// Jackknife influence values within the positive and the negative stratum.
    fn stratified_influence(&self) -> Option<Vec<f64>> {
        let (m, n) = (self.m(), self.n());
        if m < 2 || n < 2 {
            return None;
        }
        let (u2, auc) = (self.u2(), self.auc());
        let (mf, nf) = (m as f64, n as f64);
        let mut influence = Vec::with_capacity((m + n) as usize);
        for g in &self.groups {
            let without_pos = (u2 - g.pos_placement() as u128) as f64 / (2.0 * (mf - 1.0) * nf);
            let without_neg =
                (u2 - g.neg_placement(self.m()) as u128) as f64 / (2.0 * mf * (nf - 1.0));
            influence.extend(std::iter::repeat_n(
                (mf - 1.0) * (auc - without_pos),
                g.pos as usize,
            ));
            influence.extend(std::iter::repeat_n(
                (nf - 1.0) * (auc - without_neg),
                g.neg as usize,
            ));
        }
        Some(influence)
    }
}

/// The AUC of a replicate given the multiplicity of each tie group in each class;
/// `None` when the replicate has no positive or no negative.
fn weighted_auc(wp: &[u64], wn: &[u64]) -> Option<f64> {
    let mut neg_below = 0u64;
    let mut u2 = 0u128;
    // No branch on p = 0: with continuous scores most groups are empty in one class,
    // and a multiply is cheaper than a mispredicted jump.
    for (&p, &n) in wp.iter().zip(wn) {
        u2 += p as u128 * (2 * neg_below + n) as u128;
        neg_below += n;
    }
    let m: u64 = wp.iter().sum();
    (m > 0 && neg_below > 0).then(|| u2 as f64 / (2.0 * m as f64 * neg_below as f64))
}

/// Uniform integer in `0..bound`, unbiased: Lemire's nearly divisionless method (Lemire
/// 2019, *ACM TOMACS* 29:3), which divides only when the low half of the product falls
/// in the rare rejection zone.
pub(crate) fn uniform(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let mut product = rng.next_u64() as u128 * bound as u128;
    if (product as u64) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (product as u64) < threshold {
            product = rng.next_u64() as u128 * bound as u128;
        }
    }
    (product >> 64) as u64
}

/// Observations sorted by score with the (dense) cluster of each.
struct Clustered {
    layout: Layout,
    pos_cluster: Vec<u32>,
    neg_cluster: Vec<u32>,
    clusters: usize,
}

impl Clustered {
    fn new(scores: &[f64], truth: &[bool], ids: &[u64]) -> Result<Self, StatsError> {
        let mut distinct = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let dense = |id: u64| distinct.binary_search(&id).expect("id was collected") as u32;
        // Carry each observation's cluster through the sort by score.
        let (mut pos, mut neg) = split_by_truth(scores, truth, |i, s| (s, dense(ids[i])))?;
        pos.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        neg.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let sorted = SortedScores {
            pos: pos.iter().map(|p| p.0).collect(),
            neg: neg.iter().map(|p| p.0).collect(),
        };
        Ok(Clustered {
            layout: Layout::new(sorted),
            pos_cluster: pos.iter().map(|p| p.1).collect(),
            neg_cluster: neg.iter().map(|p| p.1).collect(),
            clusters: distinct.len(),
        })
    }

    /// AUCs of the non-degenerate replicates.
    fn replicates(&self, replicates: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let l = &self.layout;
        let mut multiplicity = vec![0u64; self.clusters];
        let mut wp = vec![0u64; l.groups.len()];
        let mut wn = vec![0u64; l.groups.len()];
        (0..replicates)
            .filter_map(|_| {
                multiplicity.fill(0);
                for _ in 0..self.clusters {
                    multiplicity[uniform(rng, self.clusters as u64) as usize] += 1;
                }
                wp.fill(0);
                wn.fill(0);
                for (&g, &k) in l.pos_group.iter().zip(&self.pos_cluster) {
                    wp[g as usize] += multiplicity[k as usize];
                }
                for (&g, &k) in l.neg_group.iter().zip(&self.neg_cluster) {
                    wn[g as usize] += multiplicity[k as usize];
                }
                weighted_auc(&wp, &wn)
            })
            .collect()
    }

    /// Jackknife influence values over clusters: `(K − 1)(θ̂ − θ̂₍₋ₖ₎)`. `None` when
    /// removing some cluster leaves a class empty.
    fn influence(&self) -> Option<Vec<f64>> {
        let l = &self.layout;
        let k = self.clusters;
        if k < 2 {
            return None;
        }
        // Per cluster: its positives and negatives, the pairs they take part in, and the
        // pairs inside the cluster (counted twice by the two sums, added back once).
        let (m, n) = (l.m(), l.n());
        let mut pos_count = vec![0u64; k];
        let mut neg_count = vec![0u64; k];
        let mut removed = vec![0u128; k];
        let mut members: Vec<Vec<(f64, bool)>> = vec![Vec::new(); k];
        let (mut i, mut j) = (0usize, 0usize);
        for g in &l.groups {
            for _ in 0..g.pos {
                let c = self.pos_cluster[i] as usize;
                pos_count[c] += 1;
                removed[c] += g.pos_placement() as u128;
                members[c].push((g.value, true));
                i += 1;
            }
            for _ in 0..g.neg {
                let c = self.neg_cluster[j] as usize;
                neg_count[c] += 1;
                removed[c] += g.neg_placement(m) as u128;
                members[c].push((g.value, false));
                j += 1;
            }
        }
        let (u2, auc) = (l.u2(), l.auc());
        (0..k)
            .map(|c| {
                let (mk, nk) = (m - pos_count[c], n - neg_count[c]);
                if mk == 0 || nk == 0 {
                    return None;
                }
                let within = within_cluster_u2(&members[c]);
                let loo = (u2 + within - removed[c]) as f64 / (2.0 * mk as f64 * nk as f64);
                Some((k as f64 - 1.0) * (auc - loo))
            })
            .collect()
    }
}

/// `2·Σ` pairs won by positives among one cluster's own observations, which arrive in
/// ascending score order.
fn within_cluster_u2(members: &[(f64, bool)]) -> u128 {
    let mut u2 = 0u128;
    let mut neg_below = 0u64;
    let mut start = 0;
    while start < members.len() {
        let value = members[start].0;
        let end = start + members[start..].iter().take_while(|o| o.0 == value).count();
        let tied_neg = members[start..end].iter().filter(|o| !o.1).count() as u64;
        let tied_pos = (end - start) as u64 - tied_neg;
        u2 += tied_pos as u128 * (2 * neg_below + tied_neg) as u128;
        neg_below += tied_neg;
        start = end;
    }
    u2
}

/// Order statistic interpolated on the normal scale, as `boot:::norm.inter`.
fn norm_inter(sorted: &[f64], alpha: f64) -> f64 {
    let r = sorted.len();
    let rk = (r + 1) as f64 * alpha;
    let k = rk.trunc() as usize;
    if k == 0 {
        return sorted[0];
    }
    if k >= r {
        return sorted[r - 1];
    }
    if k as f64 == rk {
        return sorted[k - 1];
    }
    let rf = (r + 1) as f64;
    let (z, zk, zk1) = (
        normal_quantile(alpha),
        normal_quantile(k as f64 / rf),
        normal_quantile((k + 1) as f64 / rf),
    );
    sorted[k - 1] + (z - zk) / (zk1 - zk) * (sorted[k] - sorted[k - 1])
}

fn sorted_finite(replicates: &[f64]) -> Result<Vec<f64>, StatsError> {
    if let Some((index, &value)) = replicates.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(StatsError::NonFinite {
            what: "bootstrap replicate",
            index,
            value,
        });
    }
    if replicates.len() < 2 {
        return Err(StatsError::Empty("bootstrap replicates"));
    }
    let mut sorted = replicates.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Ok(sorted)
}

/// Percentile interval of bootstrap replicates around `estimate`, as `boot.ci(type =
/// "perc")`.
pub fn percentile_interval(
    replicates: &[f64],
    estimate: f64,
    level: f64,
) -> Result<Estimate, StatsError> {
    check_level(level)?;
    let sorted = sorted_finite(replicates)?;
    Ok(Estimate {
        estimate,
        lower: norm_inter(&sorted, (1.0 - level) / 2.0),
        upper: norm_inter(&sorted, (1.0 + level) / 2.0),
    })
}

/// BCa interval from replicates, the estimate and the empirical influence values, as
/// `boot.ci(type = "bca", L = influence)`. `None` when `z0` is infinite (no replicate
/// below, or none at or above, the estimate) or the influence values are all zero.
pub fn bca_interval(
    replicates: &[f64],
    estimate: f64,
    influence: &[f64],
    level: f64,
) -> Result<Option<Estimate>, StatsError> {
    check_level(level)?;
    let sorted = sorted_finite(replicates)?;
    let below = sorted.partition_point(|&t| t < estimate);
    let z0 = normal_quantile(below as f64 / sorted.len() as f64);
    let sum2: f64 = influence.iter().map(|l| l * l).sum();
    let sum3: f64 = influence.iter().map(|l| l * l * l).sum();
    if !z0.is_finite() || sum2 == 0.0 {
        return Ok(None);
    }
    let a = sum3 / (6.0 * sum2.powf(1.5));
    let adjust = |alpha: f64| {
        let za = normal_quantile(alpha);
        normal_cdf(z0 + (z0 + za) / (1.0 - a * (z0 + za)))
    };
    Ok(Some(Estimate {
        estimate,
        lower: norm_inter(&sorted, adjust((1.0 - level) / 2.0)),
        upper: norm_inter(&sorted, adjust((1.0 + level) / 2.0)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mann–Whitney AUC by definition, O(m·n).
    fn naive_auc(cases: &[(f64, bool)]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for &(x, _) in cases.iter().filter(|c| c.1) {
            for &(y, _) in cases.iter().filter(|c| !c.1) {
                wins += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
                pairs += 1.0;
            }
        }
        wins / pairs
    }

    fn tied_cases(rng: &mut ChaCha8Rng, n: usize) -> Vec<(f64, bool)> {
        (0..n)
            .map(|i| (uniform(rng, 7) as f64, i % 3 == 0 || uniform(rng, 4) == 0))
            .collect()
    }

    #[test]
    fn replicate_auc_from_group_multiplicities_equals_the_auc_of_the_resample() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let cases = tied_cases(&mut rng, 40);
            let (scores, truth): (Vec<f64>, Vec<bool>) = cases.iter().copied().unzip();
            let layout = Layout::new(SortedScores::new(&scores, &truth).unwrap());
            let mut wp = vec![0u64; layout.groups.len()];
            let mut wn = vec![0u64; layout.groups.len()];
            let mut resample = Vec::new();
            for _ in 0..layout.m() {
                let i = uniform(&mut rng, layout.m()) as usize;
                wp[layout.pos_group[i] as usize] += 1;
                resample.push((layout.sorted.pos[i], true));
            }
            for _ in 0..layout.n() {
                let j = uniform(&mut rng, layout.n()) as usize;
                wn[layout.neg_group[j] as usize] += 1;
                resample.push((layout.sorted.neg[j], false));
            }
            let fast = weighted_auc(&wp, &wn).unwrap();
            assert!((fast - naive_auc(&resample)).abs() < 1e-14);
        }
    }

    #[test]
    fn jackknife_influence_equals_leave_one_out_recomputation() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let cases = tied_cases(&mut rng, 30);
        let (scores, truth): (Vec<f64>, Vec<bool>) = cases.iter().copied().unzip();
        let full = naive_auc(&cases);
        // Stratified: influence values come in sorted order, positives and negatives
        // interleaved by tie group; compare as sorted multisets.
        let layout = Layout::new(SortedScores::new(&scores, &truth).unwrap());
        let mut fast = layout.stratified_influence().unwrap();
        let (m, n) = (layout.m() as f64, layout.n() as f64);
        let mut naive: Vec<f64> = (0..cases.len())
            .map(|i| {
                let rest: Vec<(f64, bool)> = cases
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, c)| *c)
                    .collect();
                let size = if cases[i].1 { m } else { n };
                (size - 1.0) * (full - naive_auc(&rest))
            })
            .collect();
        fast.sort_by(f64::total_cmp);
        naive.sort_by(f64::total_cmp);
        for (a, b) in fast.iter().zip(&naive) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // Clustered: five patients of six observations each.
        let ids: Vec<u64> = (0..cases.len() as u64).map(|i| 10 * (i % 5)).collect();
        let clustered = Clustered::new(&scores, &truth, &ids).unwrap();
        let fast = clustered.influence().unwrap();
        for (k, &value) in fast.iter().enumerate() {
            let rest: Vec<(f64, bool)> = cases
                .iter()
                .zip(&ids)
                .filter(|(_, id)| **id != 10 * k as u64)
                .map(|(c, _)| *c)
                .collect();
            assert!(
                (value - 4.0 * (full - naive_auc(&rest))).abs() < 1e-12,
                "cluster {k}"
            );
        }
    }
}
