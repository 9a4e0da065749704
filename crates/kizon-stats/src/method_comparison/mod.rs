//! Quantitative method comparison (CLSI EP09c): a device's measurements `y` against a
//! comparator's `x` on the same specimens.
//!
//! - [`passing_bablok`]: Passing & Bablok (1983) regression with its analytical (rank-based)
//!   confidence intervals, and the Cusum test for linearity (Passing & Bablok 1983, §6).
//! - [`deming`] and [`weighted_deming`]: Deming regression with a known error ratio, and
//!   Linnet's (1990, 1993) weighted Deming for a constant coefficient of variation, with
//!   Linnet's jackknife confidence intervals.
//! - [`ols`]: ordinary least squares with t-based intervals.
//! - [`correlation`]: Pearson's r, Spearman's rho and Lin's concordance correlation.
//! - [`Regression::bias_at`]: the bias at medical decision points, with its interval (EP09c).
//! - [`qualitative`]: agreement at the analyser's cut-off (CLSI EP12), and the specimens near it.
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
mod correlation;
mod deming;
mod passing_bablok;
mod qualitative;
mod slope_selection;

pub use bland_altman::{Agreement, BlandAltman, bland_altman};
pub use correlation::{Correlation, correlation};
pub use deming::{deming, ols, weighted_deming};
pub use passing_bablok::{Cusum, SlopeAlgorithm, passing_bablok, passing_bablok_with};
pub use qualitative::{Qualitative, qualitative};

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
    /// The leave-one-out intercepts and slopes (jackknife methods), for the bias at decision
    /// points.
    #[serde(skip)]
    pub(crate) jackknife: Option<Vec<(f64, f64)>>,
    /// The mean of `x` (OLS), for the analytical standard error of a predicted value.
    #[serde(skip)]
    pub(crate) x_mean: Option<f64>,
}

/// The bias of the device at a medical decision point `x_c`: `b₀ + (b₁ − 1)·x_c`, absolute and
/// in per cent of `x_c`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionPointBias {
    pub level: f64,
    pub bias: f64,
    /// `None` for Passing–Bablok (its analytical method gives none; `mcr` bootstraps).
    pub bias_ci: Option<[f64; 2]>,
    pub se: Option<f64>,
    /// `100·bias/x_c`, and its interval; `None` at `x_c = 0`.
    pub percent: Option<f64>,
    pub percent_ci: Option<[f64; 2]>,
}

impl Regression {
    /// The bias at each decision point, with the interval of the predicted value as `mcr`'s
    /// `calcBias` gives it: Linnet's jackknife on `b₀(−i) + b₁(−i)·x_c` for (weighted) Deming,
    /// `√(se₀² + se₁²·x_c·(x_c − 2x̄))` with `t(n − 2)` for OLS.
    pub fn bias_at(&self, levels: &[f64]) -> Result<Vec<DecisionPointBias>, StatsError> {
        if let Some(bad) = levels.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::NonFinite {
                what: "decision point",
                index: bad,
                value: levels[bad],
            });
        }
        let t = t_critical(self.level, self.n as f64 - 2.0)?;
        Ok(levels
            .iter()
            .map(|&x_c| {
                let predicted = self.intercept + self.slope * x_c;
                let se = match (&self.jackknife, self.x_mean) {
                    (Some(leave_one_out), _) => Some(linnet_se(
                        predicted,
                        leave_one_out.iter().map(|(b0, b1)| b0 + b1 * x_c),
                    )),
                    (None, Some(x_mean)) => self
                        .intercept_se
                        .zip(self.slope_se)
                        .map(|(s0, s1)| (s0 * s0 + s1 * s1 * x_c * (x_c - 2.0 * x_mean)).sqrt()),
                    (None, None) => None,
                }
                .filter(|se| *se > 0.0 && se.is_finite());
                let bias = predicted - x_c;
                let bias_ci = se.map(|se| [bias - t * se, bias + t * se]);
                let percent = (x_c != 0.0).then(|| 100.0 * bias / x_c);
                let percent_ci = bias_ci.filter(|_| x_c != 0.0).map(|[l, u]| {
                    let (a, b) = (100.0 * l / x_c, 100.0 * u / x_c);
                    [a.min(b), a.max(b)]
                });
                DecisionPointBias {
                    level: x_c,
                    bias,
                    bias_ci,
                    se,
                    percent,
                    percent_ci,
                }
            })
            .collect())
    }
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

/// Linnet's jackknife standard error of an estimate `full` from its leave-one-out values:
/// that of the pseudo-values `n·θ̂ − (n−1)·θ̂₋ᵢ` (Linnet 1990), as `mcr` computes it for the
/// coefficients and for predicted values alike.
pub(crate) fn linnet_se(full: f64, leave_one_out: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = leave_one_out.len() as f64;
    let pseudo: Vec<f64> = leave_one_out
        .map(|theta| n * full - (n - 1.0) * theta)
        .collect();
    let mean = pseudo.iter().sum::<f64>() / n;
    let variance = pseudo.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (variance / n).sqrt()
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
