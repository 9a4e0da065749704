//! Quantitative method comparison (CLSI EP09c): a device's measurements `y` against a
//! comparator's `x` on the same specimens.
//!
//! - [`passing_bablok`]: Passing & Bablok (1983) regression with its analytical (rank-based)
//!   confidence intervals, and the Cusum test for linearity (Passing & Bablok 1983, §6).
//! - [`deming`] and [`weighted_deming`]: Deming regression with a known error ratio, and
//!   Linnet's (1990, 1993) weighted Deming for a constant coefficient of variation, with
//!   Linnet's jackknife confidence intervals.
//! - [`ols`]: ordinary least squares with t-based intervals.
//! - [`bland_altman`]: the mean difference with its Student-t interval and the limits of
//!   agreement with their confidence intervals (Bland & Altman 1986, 1999).
//!
//! The conventions are those of R's `mcr` (Roche), the reference implementation of EP09c,
//! against which the tests check every estimate (`tools/oracle/method_comparison.R`): the error
//! ratio is the comparator's error variance over the device's (`error.ratio`); Passing–Bablok
//! takes the median of the pairwise slopes' angles (`slope.measure = "radian"`), decides the
//! direction of vertical pairs by the sign of Kendall's tau, and treats coordinates within
//! 1e-12 of each other (relative) as equal.

mod bland_altman;
mod deming;
mod passing_bablok;
mod slope_selection;

pub use bland_altman::{Agreement, BlandAltman, bland_altman};
pub use deming::{deming, ols, weighted_deming};
pub use passing_bablok::{Cusum, SlopeAlgorithm, passing_bablok, passing_bablok_with};

use serde::Serialize;

use crate::error::StatsError;

/// A regression of the device (`y`) on the comparator (`x`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regression {
    /// `passing-bablok`, `deming`, `weighted-deming` or `ols`.
    pub method: &'static str,
    pub n: usize,
    pub slope: f64,
    /// `[lower, upper]`; `None` where the data cannot give the bound (Passing–Bablok with too
    /// few slopes).
    pub slope_ci: Option<[f64; 2]>,
    pub intercept: f64,
    pub intercept_ci: Option<[f64; 2]>,
    /// Standard errors, where the method has them (not Passing–Bablok).
    pub slope_se: Option<f64>,
    pub intercept_se: Option<f64>,
    /// How the intervals were made, in words.
    pub ci_method: &'static str,
    /// The error ratio (Deming, weighted Deming).
    pub error_ratio: Option<f64>,
    /// Iterations weighted Deming took to converge.
    pub iterations: Option<usize>,
    /// Passing–Bablok's test for linearity.
    pub cusum: Option<Cusum>,
    pub level: f64,
}

/// Checks paired measurements: the same length, at least `min` pairs, every value finite.
pub(crate) fn check_pairs(x: &[f64], y: &[f64], min: usize) -> Result<(), StatsError> {
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            what: "comparator and device measurements",
            left: x.len(),
            right: y.len(),
        });
    }
    if x.len() < min {
        return Err(StatsError::InvalidArgument(format!(
            "method comparison needs at least {min} pairs, got {}",
            x.len()
        )));
    }
    for (what, values) in [("comparator value", x), ("device value", y)] {
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(StatsError::NonFinite { what, index, value });
        }
    }
    Ok(())
}

/// The Student-t critical value `t(1 − α/2, df)` for a two-sided `level`.
pub(crate) fn t_critical(level: f64, df: f64) -> Result<f64, StatsError> {
    crate::estimate::check_level(level)?;
    Ok(crate::dist::student_t_quantile(0.5 + 0.5 * level, df))
}

/// `mcr`'s difference: zero when the two are equal to 1e-12 of their mean magnitude.
pub(crate) fn difference(a: f64, b: f64) -> f64 {
    let d = a - b;
    if d == 0.0 || d.abs() < 1e-12 * (a.abs() + b.abs()) / 2.0 {
        0.0
    } else {
        d
    }
}

/// The median of `values` (reordered), the mean of the middle two for an even count.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    let half = n.div_ceil(2);
    let (_, upper_middle, _) = values.select_nth_unstable_by(half - 1, f64::total_cmp);
    let lower = *upper_middle;
    if n % 2 == 1 {
        return lower;
    }
    let (_, next, _) = values.select_nth_unstable_by(half, f64::total_cmp);
    (lower + *next) / 2.0
}
