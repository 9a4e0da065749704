//! Passing–Bablok regression (Passing & Bablok 1983, *J Clin Chem Clin Biochem* 21:709): the
//! slope is the shifted median of the slopes between all pairs of points, the intercept the
//! median of `y − b·x`; the slope's confidence bounds are order statistics `M₁`, `M₂` at
//! `(N ∓ C)/2` with `C = z·√(n(n−1)(2n+5)/18)`, rounded as `mcr` rounds it, and the intercept's
//! bounds come from the slope's. The Cusum test checks linearity (§6 of the paper).
//!
//! As in `mcr` 1.3 (`calc_PaBa`): slopes are compared and averaged as angles (`atan`), a slope
//! of exactly −1 stays in the list while the shift counts it (`Offset = n(≤ −1) + n(< −1)`,
//! the same position as excluding it), and vertical pairs count as +∞ when Kendall's tau is
//! not negative (−∞ otherwise); identical points give no slope.

use serde::Serialize;

use super::{Regression, check_pairs, difference, median};
use crate::dist::normal_quantile;
use crate::error::StatsError;
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};

/// Passing & Bablok's linearity test: the largest absolute cumulative sum of the residual
/// scores ordered along the line, against `1.36·√(n₊ + n₋ + 1)` (5 % level, Kolmogorov–
/// Smirnov).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cusum {
    /// Points above and below the line.
    pub above: usize,
    pub below: usize,
    pub max_cusum: f64,
    pub critical: f64,
    /// `max_cusum` does not exceed `critical`: no evidence against linearity.
    pub linear: bool,
}

/// The pairwise slopes as angles, with the counts the shift needs.
struct Angles {
    angles: Vec<f64>,
    /// Angles `≤ −π/4`, `< −π/4`, `≥ π/4`, `> π/4`.
    at_most_minus_one: usize,
    below_minus_one: usize,
    at_least_one: usize,
    above_one: usize,
}

fn angles(x: &[f64], y: &[f64], positive: bool) -> Angles {
    let n = x.len();
    let mut out = Angles {
        angles: Vec::with_capacity(n * (n - 1) / 2),
        at_most_minus_one: 0,
        below_minus_one: 0,
        at_least_one: 0,
        above_one: 0,
    };
    for j in 0..n {
        for k in j + 1..n {
            let dx = difference(x[k], x[j]);
            let dy = difference(y[k], y[j]);
            let angle = if dx != 0.0 {
                (dy / dx).atan()
            } else if dy != 0.0 {
                if positive { FRAC_PI_2 } else { -FRAC_PI_2 }
            } else {
                continue;
            };
            if angle <= -FRAC_PI_4 {
                out.at_most_minus_one += 1;
                if angle < -FRAC_PI_4 {
                    out.below_minus_one += 1;
                }
            }
            if angle >= FRAC_PI_4 {
                out.at_least_one += 1;
                if angle > FRAC_PI_4 {
                    out.above_one += 1;
                }
            }
            out.angles.push(angle);
        }
    }
    out
}

/// Up to this many points, every pairwise angle is listed (at most two million, 16 MB); beyond,
/// ranks are selected without listing ([`super::slope_selection`]).
const LIST_ALL_UP_TO: usize = 2_000;

/// How Passing–Bablok finds order statistics of the pairwise slopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeAlgorithm {
    /// Lists every pair's slope up to 2,000 points, selects without listing beyond.
    Auto,
    /// Lists every pair's slope (O(n²) time and memory).
    ListAll,
    /// Counts slopes below a value by inversions (O(n log n) per count).
    Select,
}

/// The pairwise angles, by rank, with the counts the shift needs.
enum Source<'a> {
    Listed(Angles),
    Selected {
        selector: super::slope_selection::Selector<'a>,
        vertical: u64,
        positive: bool,
        counts: [usize; 4],
        /// A rank could not be selected exactly.
        failed: bool,
    },
}

impl Source<'_> {
    fn count(&self) -> usize {
        match self {
            Source::Listed(all) => all.angles.len(),
            Source::Selected {
                selector, vertical, ..
            } => (selector.total + vertical) as usize,
        }
    }

    /// Angles `≤ −π/4`, `< −π/4`, `≥ π/4`, `> π/4`.
    fn counts(&self) -> [usize; 4] {
        match self {
            Source::Listed(all) => [
                all.at_most_minus_one,
                all.below_minus_one,
                all.at_least_one,
                all.above_one,
            ],
            Source::Selected { counts, .. } => *counts,
        }
    }

    /// The angle of rank `rank` (1-based) in ascending order, or `None` outside the list.
    fn nth(&mut self, rank: i64) -> Option<f64> {
        if rank < 1 || rank as usize > self.count() {
            return None;
        }
        match self {
            Source::Listed(all) => {
                let (_, value, _) = all
                    .angles
                    .select_nth_unstable_by(rank as usize - 1, f64::total_cmp);
                Some(*value)
            }
            Source::Selected {
                selector,
                vertical,
                positive,
                failed,
                ..
            } => {
                let rank = rank as u64;
                let angle = if *positive {
                    if rank > selector.total {
                        Some(FRAC_PI_2)
                    } else {
                        selector.nth(rank)
                    }
                } else if rank <= *vertical {
                    Some(-FRAC_PI_2)
                } else {
                    selector.nth(rank - *vertical)
                };
                *failed |= angle.is_none();
                angle
            }
        }
    }

    /// `mcr`'s order statistic for a shifted count `index`: the angle at `(index + 1) / 2`, or
    /// the mean of it and the next when `index` is even, as a slope.
    fn shifted_median(&mut self, index: i64) -> Option<f64> {
        let half = (index + 1) / 2; // C integer division
        if index % 2 == 0 {
            let low = self.nth(half)?;
            let high = self.nth(half + 1)?;
            Some(((low + high) / 2.0).tan())
        } else {
            self.nth(half).map(f64::tan)
        }
    }
}

fn intercept_for(x: &[f64], y: &[f64], slope: f64) -> f64 {
    let mut residuals: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(a, b)| difference(*b, slope * a))
        .collect();
    median(&mut residuals)
}

/// Passing & Bablok's Cusum linearity test on the fitted line.
fn cusum(x: &[f64], y: &[f64], slope: f64, intercept: f64) -> Cusum {
    let residuals: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(a, b)| b - intercept - a * slope)
        .collect();
    let above = residuals.iter().filter(|r| **r > 0.0).count();
    let below = residuals.iter().filter(|r| **r < 0.0).count();
    let score = |r: f64| {
        if r > 0.0 {
            (below as f64 / above as f64).sqrt()
        } else if r < 0.0 {
            -(above as f64 / below as f64).sqrt()
        } else {
            0.0
        }
    };
    let distance =
        |i: usize| (y[i] + x[i] / slope - intercept) / (1.0 + 1.0 / (slope * slope)).sqrt();
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|a, b| distance(*a).total_cmp(&distance(*b))); // stable, as R's order()
    let mut sum = 0.0;
    let mut max_cusum: f64 = 0.0;
    for i in order {
        sum += score(residuals[i]);
        max_cusum = max_cusum.max(sum.abs());
    }
    let critical = 1.36 * ((above + below) as f64 + 1.0).sqrt();
    Cusum {
        above,
        below,
        max_cusum,
        critical,
        linear: max_cusum <= critical,
    }
}

/// Passing–Bablok regression of `y` (device) on `x` (comparator) with its analytical intervals
/// at `level`, and the Cusum linearity test.
pub fn passing_bablok(x: &[f64], y: &[f64], level: f64) -> Result<Regression, StatsError> {
    passing_bablok_with(x, y, level, SlopeAlgorithm::Auto)
}

/// [`passing_bablok`] with the algorithm for the slopes' order statistics chosen (both give
/// the same result; the tests and the benchmark compare them).
pub fn passing_bablok_with(
    x: &[f64],
    y: &[f64],
    level: f64,
    algorithm: SlopeAlgorithm,
) -> Result<Regression, StatsError> {
    check_pairs(x, y, 3)?;
    crate::estimate::check_level(level)?;
    let n = x.len();
    let list_all = match algorithm {
        SlopeAlgorithm::Auto => n <= LIST_ALL_UP_TO,
        SlopeAlgorithm::ListAll => true,
        SlopeAlgorithm::Select => false,
    };
    let positive = super::slope_selection::kendall_not_negative(x, y);
    let sorted;
    let mut all = if list_all {
        Source::Listed(angles(x, y, positive))
    } else {
        sorted = super::slope_selection::Sorted::new(x, y);
        let selector = super::slope_selection::Selector::new(&sorted);
        let vertical = sorted.vertical();
        let finite = selector.total as usize;
        let (below_minus_one, at_most_minus_one) = sorted.count_around(-1.0);
        let (below_one, at_most_one) = sorted.count_around(1.0);
        let [below_minus_one, at_most_minus_one] =
            [below_minus_one, at_most_minus_one].map(|c| c as usize);
        let (at_least_one, above_one) = (
            finite.saturating_sub(below_one as usize),
            finite.saturating_sub(at_most_one as usize),
        );
        let v = vertical as usize;
        let counts = if positive {
            [
                at_most_minus_one,
                below_minus_one,
                at_least_one + v,
                above_one + v,
            ]
        } else {
            [
                at_most_minus_one + v,
                below_minus_one + v,
                at_least_one,
                above_one,
            ]
        };
        Source::Selected {
            selector,
            vertical,
            positive,
            counts,
            failed: false,
        }
    };
    let [at_most_minus_one, below_minus_one, at_least_one, above_one] = all.counts();
    let count = all.count() as i64;
    if count == 0 {
        return Err(StatsError::InvalidArgument(
            "every pair of points is identical: no slope to take a median of".into(),
        ));
    }
    let offset = if positive {
        (at_most_minus_one + below_minus_one) as i64
    } else {
        -((at_least_one + above_one) as i64)
    };
    let slope = all.shifted_median(count + offset).ok_or_else(|| {
        StatsError::InvalidArgument("too few distinct slopes for a Passing–Bablok median".into())
    })?;

    let z = normal_quantile(0.5 + 0.5 * level);
    let n_f = n as f64;
    let c = (z * (n_f * (n_f - 1.0) * (2.0 * n_f + 5.0) / 18.0).sqrt()).round() as i64;
    let lowest = if positive {
        2 * (at_most_minus_one - below_minus_one) as i64 + 1
    } else {
        2 * (at_least_one - above_one) as i64 + 1
    };
    let lower_index = count - c + offset;
    let lower = ((lower_index + 1) / 2 >= lowest)
        .then(|| all.shifted_median(lower_index))
        .flatten();
    let upper_index = count + c + offset;
    let upper = ((upper_index + 1) / 2 <= count)
        .then(|| all.shifted_median(upper_index))
        .flatten();
    let slope_ci = lower.zip(upper).map(|(l, u)| [l, u]);
    if let Source::Selected { failed: true, .. } = all {
        return Err(StatsError::InvalidArgument(
            "Passing–Bablok: a slope's rank could not be selected exactly (rounding at the bracket's ends); report this data set as a defect of kizon".into(),
        ));
    }
    if !slope.is_finite() || slope.abs() > 1e15 {
        return Err(StatsError::InvalidArgument(
            "Passing–Bablok: the median slope is vertical (the comparator's values hardly vary): no regression line".into(),
        ));
    }

    let intercept = intercept_for(x, y, slope);
    let intercept_ci = slope_ci.map(|[l, u]| [intercept_for(x, y, u), intercept_for(x, y, l)]);
    Ok(Regression {
        method: "passing-bablok",
        n,
        slope,
        slope_ci,
        intercept,
        intercept_ci,
        slope_se: None,
        intercept_se: None,
        ci_method: "analytical (Passing & Bablok 1983)",
        error_ratio: None,
        iterations: None,
        cusum: Some(cusum(x, y, slope, intercept)),
        level,
        jackknife: None,
        x_mean: None,
    })
}
