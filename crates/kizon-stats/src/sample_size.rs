//! Sample sizes for a study protocol.
//!
//! **A proportion against a performance goal** (sensitivity, specificity, PPA, ...):
//! the number of cases `n` such that, when the true proportion is `p1`, the lower bound
//! of the two-sided `level` interval (Clopper–Pearson by default) exceeds the goal
//! `p0` with probability at least `power`. Computed exactly from the binomial
//! distribution, not from a normal approximation: for each `n`, the critical count
//! `x_c(n)` is the smallest `x` whose lower bound exceeds `p0`, and the power is
//! `P(X ≥ x_c(n) | n, p1)` (Flahault, Cadilhac & Thomas 2005, *J Clin Epidemiol*
//! 58:859–862).
//!
//! Because `x` is discrete the power is a saw-tooth in `n`: it can fall below the target
//! again after first reaching it. The rule here: every `n` from 1 to a search limit of
//! `2·n_normal + 100` is evaluated (`n_normal` is the normal-approximation size), and
//! the reported `n` is the smallest one whose power, *and that of every larger n up to
//! the limit*, reaches the target; `first_n`, the smallest `n` that reaches it at all, is
//! reported beside it.
//!
//! **An AUC against `AUC0`** (H0: AUC ≤ AUC0, one-sided α): the smallest number of
//! diseased cases `n_D` with `z_{1−α}·SE0 + z_{power}·SE1 ≤ AUC1 − AUC0`, where the
//! standard errors come from
//! - the binormal variance of Obuchowski & McClish (1997), *Stat Med* 16:1529–1542,
//!   as used for planning in Obuchowski (1998), *Stat Methods Med Res* 7:371–392
//!   (B = 1 gives the
//!   `0.0099·e^{−A²/2}·((5A² + 8) + (A² + 8)/R)` formula of Obuchowski, Lieber & Wians
//!   2004), with `A = Φ⁻¹(AUC)·√(1 + B²)` and `R` non-diseased per diseased case; or
//! - the exponential approximation of Hanley & McNeil (1982), *Radiology*
//!   143:29–36, `Q1 = θ/(2 − θ)`, `Q2 = 2θ²/(1 + θ)`.
//!
//! `n_N = ⌈R·n_D⌉`.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::dist::{binomial_sf_at, normal_cdf, normal_quantile};
use crate::error::StatsError;
use crate::estimate::{check_level, check_probability};
use crate::proportion::{ProportionCi, proportion_ci};

/// Hard cap on the search, so a goal too close to the expected value fails fast.
const MAX_N: u64 = 1_000_000;

/// Sample size for a proportion to beat a performance goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProportionSampleSize {
    /// Smallest n whose power, and that of every larger n up to `search_limit`, reaches
    /// the target.
    pub n: u64,
    /// Smallest n whose power reaches the target (the saw-tooth may dip after it).
    pub first_n: u64,
    /// Power at `n`.
    pub power: f64,
    /// Successes needed at `n` for the lower bound to exceed the goal.
    pub critical_successes: u64,
    pub search_limit: u64,
}

/// Cases of one class (e.g. diseased, for sensitivity) needed so that the lower bound of
/// the `ci` interval at `level` exceeds `p0` with probability `power` when the true
/// proportion is `p1`.
pub fn proportion_sample_size(
    p0: f64,
    p1: f64,
    level: f64,
    power: f64,
    ci: ProportionCi,
) -> Result<ProportionSampleSize, StatsError> {
    check_level(level)?;
    check_probability("performance goal p0", p0)?;
    check_probability("expected proportion p1", p1)?;
    check_probability("power", power)?;
    if p1 <= p0 {
        return Err(StatsError::InvalidArgument(format!(
            "the expected proportion p1 = {p1} must exceed the performance goal p0 = {p0}"
        )));
    }
    let z_alpha = normal_quantile(0.5 + 0.5 * level);
    let z_beta = normal_quantile(power);
    let normal = ((z_alpha * (p0 * (1.0 - p0)).sqrt() + z_beta * (p1 * (1.0 - p1)).sqrt())
        / (p1 - p0))
        .powi(2);
    let limit = (2.0 * normal.ceil() + 100.0).min(MAX_N as f64) as u64;
    // The critical count never decreases as n grows (at fixed x, one more trial lowers
    // the lower bound), so walking it upwards from its value at n − 1 costs
    // O(limit) interval evaluations in all.
    let mut critical = 0u64;
    let mut powers = Vec::with_capacity(limit as usize);
    for n in 1..=limit {
        while critical <= n && !lower_exceeds(critical, n, p0, ci, level)? {
            critical += 1;
        }
        powers.push((
            critical,
            if critical > n {
                0.0
            } else {
                binomial_sf_at(critical, n, p1)
            },
        ));
    }
    let reaches = |&(_, p): &(u64, f64)| p >= power;
    let first = powers.iter().position(reaches);
    let stable = powers
        .iter()
        .rposition(|p| !reaches(p))
        .map_or(0, |i| i + 1);
    match first {
        Some(first) if stable < powers.len() => Ok(ProportionSampleSize {
            n: stable as u64 + 1,
            first_n: first as u64 + 1,
            power: powers[stable].1,
            critical_successes: powers[stable].0,
            search_limit: limit,
        }),
        _ => Err(StatsError::InvalidArgument(format!(
            "power {power} is not reached for good within n ≤ {limit}; p1 = {p1} is too close to p0 = {p0}"
        ))),
    }
}

fn lower_exceeds(
    x: u64,
    n: u64,
    p0: f64,
    ci: ProportionCi,
    level: f64,
) -> Result<bool, StatsError> {
    Ok(proportion_ci(x, n, ci, level)?.is_some_and(|e| e.lower > p0))
}

/// Total cases to enrol so that a class making up `fraction` of them (the prevalence
/// for diseased cases, 1 − prevalence for non-diseased) is expected to reach
/// `class_cases`.
pub fn total_for_fraction(class_cases: u64, fraction: f64) -> Result<u64, StatsError> {
    check_probability("class fraction (prevalence)", fraction)?;
    Ok(ceil_tolerant(class_cases as f64 / fraction))
}

/// Ceiling that ignores floating-point dust: 100 / 0.2 is 500.00000000000006, which
/// must stay 500, not become 501.
fn ceil_tolerant(x: f64) -> u64 {
    let nearest = x.round();
    if (x - nearest).abs() <= 1e-9 * nearest {
        nearest as u64
    } else {
        x.ceil() as u64
    }
}

/// The variance model of the AUC estimate for sample-size planning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "model")]
pub enum AucVariance {
    /// Obuchowski's binormal variance with scale ratio `b` (σ_non-diseased/σ_diseased;
    /// 1 for equal variances).
    Binormal { b: f64 },
    /// Hanley & McNeil's exponential approximation.
    HanleyMcNeil,
}

impl AucVariance {
    /// Standard error of the AUC `theta` with `nd` diseased and `nn` non-diseased cases
    /// (`ratio = nn/nd` as planned).
    fn se(self, theta: f64, nd: u64, nn: u64, ratio: f64) -> f64 {
        match self {
            AucVariance::Binormal { b } => {
                let a = normal_quantile(theta) * (1.0 + b * b).sqrt();
                let e = (-a * a / (2.0 * (1.0 + b * b))).exp();
                let f = e / (2.0 * PI * (1.0 + b * b)).sqrt();
                let g = -a * b * e / (2.0 * PI * (1.0 + b * b).powi(3)).sqrt();
                let v = f * f * (1.0 + b * b / ratio + a * a / 2.0)
                    + g * g * (b * b * (1.0 + ratio) / (2.0 * ratio));
                (v / nd as f64).sqrt()
            }
            AucVariance::HanleyMcNeil => {
                let (q1, q2) = (theta / (2.0 - theta), 2.0 * theta * theta / (1.0 + theta));
                let (d, n) = (nd as f64, nn as f64);
                let t2 = theta * theta;
                ((theta * (1.0 - theta) + (d - 1.0) * (q1 - t2) + (n - 1.0) * (q2 - t2)) / (d * n))
                    .sqrt()
            }
        }
    }
}

/// Sample size to show an AUC above `auc0`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AucSampleSize {
    pub diseased: u64,
    pub non_diseased: u64,
    pub total: u64,
    /// Power actually reached with these numbers.
    pub power: f64,
}

/// Diseased and non-diseased cases to reject H0: AUC ≤ `auc0` at one-sided `alpha` with
/// `power` when the AUC is `auc1`, with `ratio` non-diseased cases per diseased one.
pub fn auc_sample_size(
    auc0: f64,
    auc1: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
    variance: AucVariance,
) -> Result<AucSampleSize, StatsError> {
    check_probability("null AUC auc0", auc0)?;
    check_probability("expected AUC auc1", auc1)?;
    check_probability("one-sided alpha", alpha)?;
    check_probability("power", power)?;
    if auc1 <= auc0 || auc0 < 0.5 {
        return Err(StatsError::InvalidArgument(format!(
            "need 0.5 <= auc0 < auc1 < 1, got auc0 = {auc0}, auc1 = {auc1}"
        )));
    }
    if !(ratio > 0.0 && ratio.is_finite()) {
        return Err(StatsError::InvalidArgument(format!(
            "the non-diseased per diseased ratio must be positive, got {ratio}"
        )));
    }
    if let AucVariance::Binormal { b } = variance
        && !(b > 0.0 && b.is_finite())
    {
        return Err(StatsError::InvalidArgument(format!(
            "the binormal scale ratio b must be positive, got {b}"
        )));
    }
    let (z_alpha, z_beta) = (normal_quantile(1.0 - alpha), normal_quantile(power));
    let non_diseased = |nd: u64| ceil_tolerant(ratio * nd as f64).max(1);
    let margin = |nd: u64| {
        let nn = non_diseased(nd);
        let (se0, se1) = (
            variance.se(auc0, nd, nn, ratio),
            variance.se(auc1, nd, nn, ratio),
        );
        (auc1 - auc0 - z_alpha * se0, se1)
    };
    let enough = |nd: u64| {
        let (gap, se1) = margin(nd);
        gap >= z_beta * se1
    };
    // Standard errors fall with n: double until enough, then bisect between the last
    // size that was not enough (`lo`, 0 at first) and the first that was (`hi`).
    let mut hi = 1u64;
    while !enough(hi) {
        hi *= 2;
        if hi > MAX_N {
            return Err(StatsError::InvalidArgument(format!(
                "more than {MAX_N} diseased cases would be needed"
            )));
        }
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if enough(mid) { hi = mid } else { lo = mid }
    }
    let nd = hi;
    let (gap, se1) = margin(nd);
    let nn = non_diseased(nd);
    Ok(AucSampleSize {
        diseased: nd,
        non_diseased: nn,
        total: nd + nn,
        power: normal_cdf(gap / se1),
    })
}
